"""Chapter parameters (icl.book.parameters): read from the parameters cell, checked before any kernel starts."""

import pytest

import icl.pipeline.execute as pl
from icl.book.parameters import ParameterError, check_parameters, check_value, declared, expected_kind
from icl.cli import main
from icl.pipeline.execute import chapter_sources, execute_chapters


def sources(*only):
    return chapter_sources(only=list(only))


@pytest.fixture
def no_kernel(monkeypatch):
    """Executing a chapter fails the test: the checks must come first."""

    def refuse(*a, **k):
        raise AssertionError("a chapter was executed although its parameters are bad")

    monkeypatch.setattr(pl, "execute_chapter", refuse)


def test_the_parameters_cell_is_read_with_its_defaults_and_comments():
    p = declared(sources("01_setup")[0])
    assert list(p) == ["profile", "device", "d", "L", "sigma2", "heads", "seed"]
    assert p["profile"].default == "quick" and p["d"].default is None
    assert p["d"].help == "covariate dimension (None: the paper's 5)"
    assert declared(sources("98_rerun")[0])["rerun"].default == {"d": 10, "L": 80, "sigma2": 0.5}


def test_an_unknown_parameter_fails_before_any_kernel_starts_naming_the_chapter_and_its_parameters(tmp_path, no_kernel):
    with pytest.raises(ParameterError) as e:
        execute_chapters("quick", "cpu", tmp_path / "out", only=["01_setup"], parameters={"dd": 3})
    msg = str(e.value)
    assert msg.startswith("01_setup has no parameter 'dd' (given: -p dd=3; did you mean 'd'?)")
    assert "  heads = None  # heads of the trained model" in msg and "  seed = None" in msg
    assert not (tmp_path / "out").exists()  # nothing executed, nothing written


def test_a_parameter_must_be_taken_by_every_chapter_it_is_passed_to_and_a_page_gets_only_its_own():
    with pytest.raises(ParameterError, match=r"01_setup has no parameter 'seeds'.*which 02_observations takes"):
        check_parameters(sources("01", "02"), {"seeds": 2}, "quick")
    with pytest.raises(ParameterError, match=r"not a parameter of 05_gradient_flow, 06_approximation_optimality"):
        check_parameters(sources("01", "02", "05", "06"), {"heads": 2}, "quick")
    passed = {p.stem: v for p, v in check_parameters(sources("01", "02", "98", "99"), {"d": 10}, "quick").items()}
    assert passed == {"01_setup": {"d": 10}, "02_observations": {"d": 10}, "98_rerun": {}, "99_scorecard": {}}
    with pytest.raises(ParameterError, match="98_rerun has no parameter 'd'"):  # only pages: one must take it
        check_parameters(sources("98"), {"d": 3}, "quick")
    rerun = {"d": 3, "L": 20, "sigma2": 0.1}
    passed = {p.stem: v for p, v in check_parameters(sources("98", "99"), {"rerun": rerun}, "quick").items()}
    assert passed == {"98_rerun": {"rerun": rerun}, "99_scorecard": {}}
    with pytest.raises(ParameterError, match="--profile"):
        check_parameters(sources("01"), {"profile": "paper"}, "quick")


@pytest.mark.parametrize(
    "chapter, name, value, expected",
    [
        ("02_observations", "heads", 0, "a non-empty list of integers ≥ 1, e.g. heads=[1,2,3,4,6,8]"),
        ("02_observations", "heads", [1, 0], "a non-empty list of integers ≥ 1"),
        ("02_observations", "seeds", 0, "an integer ≥ 1 or a non-empty list of integers ≥ 0"),
        ("07_bayes_and_single_head", "seeds", 2, "a non-empty list of integers ≥ 0"),
        ("01_setup", "heads", [1, 2], "an integer ≥ 1, e.g. heads=2"),
        ("01_setup", "d", 0, "an integer ≥ 1"),
        ("01_setup", "d", 2.5, "an integer ≥ 1"),
        ("01_setup", "L", "long", "an integer ≥ 1"),
        ("01_setup", "sigma2", -0.1, "a number ≥ 0"),
        ("01_setup", "seed", -1, "an integer ≥ 0"),
        ("05_gradient_flow", "extra_cases", [20, 100], "a non-empty list of non-empty lists of integers ≥ 1"),
        ("07_bayes_and_single_head", "prop_xis", [0.5, 0], "a non-empty list of numbers > 0"),
        ("09_non_isotropic", "rhos", [0.5, 1.0], "a non-empty list of numbers in (-1, 1)"),
        ("10_multitask_superposition", "convention", "mine", "one of ['paper', 'authors']"),
        ("10_multitask_superposition", "steps", 0, "an integer ≥ 1"),
        ("08_linear_and_activations", "activations", "relu", "a non-empty list of strings"),
    ],
)
def test_a_bad_value_names_the_chapter_the_parameter_the_value_and_what_it_takes(
    chapter, name, value, expected, no_kernel, tmp_path
):
    with pytest.raises(ParameterError) as e:
        execute_chapters("quick", "cpu", tmp_path, only=[chapter], parameters={name: value})
    assert str(e.value).startswith(f"{chapter}: {name}={value!r} is not valid: {name} must be {expected}")


@pytest.mark.parametrize(
    "chapter, params",
    [
        ("01_setup", {"d": 10, "L": 80, "sigma2": 1}),  # an integer is a number
        ("02_observations", {"heads": (1, 2), "seeds": [0, 3], "lengths": [5, 40]}),
        ("02_observations", {"seeds": 2, "heads": None}),  # None: the paper's value
        ("05_gradient_flow", {"extra_cases": [[20, 100]], "omega0": 0.02}),
        ("08_linear_and_activations", {"activations": ["relu"], "linear_steps": 100}),
        ("10_multitask_superposition", {"convention": "authors", "steps": 100}),
    ],
)
def test_good_values_pass(chapter, params):
    (passed,) = check_parameters(sources(chapter), params, "quick").values()
    assert passed == params


def test_every_chapter_parameter_has_a_kind_read_from_its_default_or_the_papers_value():
    """No parameter escapes the checks: a None default resolves to a TaskConfig or budget field."""
    for src in chapter_sources():
        for name, p in declared(src).items():
            kind, _ = expected_kind(src.stem, name, p.default, "quick")
            assert "any" not in kind.types, (src.stem, name)


def test_chapter_start_refuses_a_bad_value_too():
    from icl.book.chapter import start

    with pytest.raises(ParameterError, match="02_observations: heads=0 is not valid"):
        start("02_observations", "smoke", "cpu", heads=0)
    check_value("02_observations", "heads", [1, 2], None, "smoke")  # valid: no error


def test_icl_chapters_prints_a_bad_parameter_as_one_message_and_exits_non_zero(tmp_path, capsys, no_kernel):
    out = str(tmp_path / "out")
    assert main(["chapters", "--profile", "quick", "--out", out, "-p", "heads=0", "02_observations"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("icl chapters: error: 02_observations: heads=0 is not valid") and "Traceback" not in err
    assert main(["chapters", "--profile", "quick", "--out", out, "-p", "dd=3", "01_setup"]) == 2
    assert "01_setup has no parameter 'dd'" in capsys.readouterr().err


def test_icl_chapters_says_first_which_models_it_will_train(tmp_path, monkeypatch, capsys):
    """Models neither published nor cached are announced (count, model-steps, chapters, how to train them
    ahead) before any chapter runs; published ones are not."""
    from icl.cli import _announce_missing

    monkeypatch.setenv("ICL_CACHE_DIR", str(tmp_path / "cache"))
    _announce_missing("smoke", ["02_observations"])
    err = capsys.readouterr().err
    assert err.startswith("[chapters] ") and "profile smoke" in err and "02_observations" in err
    assert "icl plan --profile smoke --train" in err
    _announce_missing("paper", ["01_setup"])  # every paper model of chapter 01 is published
    assert capsys.readouterr().err == ""
