import json
import math

import numpy as np
import pytest

from icl.book.claims import Claim, ClaimsTable, load_all_claims, load_tables, scorecard_counts


def test_statuses_and_margins():
    assert Claim("a", "s", "r", 0.5, 0.52, tol=0.03).status == "pass"
    assert Claim("a", "s", "r", 0.5, 0.6, tol=0.03).status == "fail"
    assert Claim("a", "s", "r", 0.88, 0.879, tol=0.01, kind="rel").status == "pass"
    assert Claim("a", "s", "r", 0.02, 0.05, kind="max").status == "pass"
    assert Claim("a", "s", "r", 0.9, 1.0, kind="min").status == "fail"
    assert Claim("a", "s", "r", False, kind="true").status == "fail"
    assert Claim("a", "s", "r", np.bool_(True), kind="true").status == "pass"
    assert Claim("a", "s", "r", 0.5, 0.5, evaluated=False).status == "not evaluated"
    assert math.isclose(Claim("a", "s", "r", 0.5, 0.52, tol=0.03).margin, 0.01)
    assert math.isclose(Claim("a", "s", "r", 0.9, 1.0, kind="min").margin, -0.1)
    assert math.isclose(Claim("a", "s", "r", 1.1, 1.0, tol=0.05, kind="rel").margin, -0.05)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kind="approx"), "kind"),
        (dict(expected=None), "expected"),
        (dict(measured=float("nan")), "finite"),  # NaN is an error, never a silent fail or pass
        (dict(measured=True), "boolean"),
        (dict(kind="true", measured=1.0, expected=None), "real boolean"),  # a number is not a truth value
        (dict(kind="true", measured=float("nan"), expected=None), "real boolean"),
        (dict(tol=-1.0), "tol"),
        (dict(id="Has spaces"), "snake_case"),
    ],
)
def test_bad_claims_are_named(kwargs, match):
    args = dict(id="x", statement="s", ref="r", measured=1.0, expected=1.0) | kwargs
    with pytest.raises(ValueError, match=match):
        Claim(**args)


def test_table_round_trip(tmp_path):
    t = ClaimsTable("07_test", meta={"profile": "quick"})
    t.add("x_close", "x ≈ 1", "Obs. 1", 1.01, 1.0, tol=0.05, tol_origin="5 %")
    t.add("y_small", "y small", "Obs. 2", 0.3, 0.1, kind="max", note_if_fail="needs more steps")
    t.add("z_small", "z small", "Obs. 2", 0.05, 0.1, kind="max", note_if_fail="never shown")
    md = t.to_markdown()
    assert "**FAIL**" in md and "needs more steps" in md and "never shown" not in md and "Tolerance: 5 %" in md
    assert t["y_small"].status == "fail" and t.counts() == {"pass": 2, "fail": 1, "not evaluated": 0}
    with pytest.raises(ValueError, match="already"):
        t.add("x_close", "again", "r", 1.0, 1.0)
    t.save(tmp_path)
    rows = load_all_claims(tmp_path)
    assert [r["status"] for r in rows] == ["pass", "fail", "pass"] and rows[0]["chapter"] == "07_test"
    assert json.loads((tmp_path / "07_test.json").read_text())["meta"] == {"profile": "quick"}
    (back,) = load_tables(tmp_path)
    assert back.to_markdown() == md and back.meta == {"profile": "quick"}
    counts = scorecard_counts([back])
    assert counts["n-pass"] == "2" and counts["n-total"] == "3" and counts["profile"] == "quick"


def test_smoke_tables_evaluate_only_claims_marked_always():
    smoke = ClaimsTable("08", evaluate=False)
    smoke.add("trained", "x", "r", 5.0, 1.0)
    smoke.add("monte_carlo", "y", "r", 1.0, 1.0, tol=0.1, always=True)
    assert [c.status for c in smoke.claims] == ["not evaluated", "pass"]
    assert "trained: 5 [not evaluated]" in smoke.measured_text()


def test_no_tables_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="execute the chapters"):
        scorecard_counts(load_tables(tmp_path))


def test_editions_side_by_side(tmp_path, monkeypatch):
    from icl.book.claims import budgets_side_by_side, edition_table_markdown, publish_claims

    monkeypatch.setenv("ICL_RESULTS_DIR", str(tmp_path / "results"))

    def table(profile, measured, params=None, chapter="01_setup"):
        t = ClaimsTable(chapter, meta={"profile": profile, "params": params or {}})
        t.add("a", "first", "Obs. 1", measured, 1.0, 0.1)
        t.add("b", "second", "Obs. 2", 1.0, 1.0, 0.1)
        return t

    run = tmp_path / "executed-quick"
    table("quick", 2.0).save(run)  # a fails at the quick budget
    table("quick", 1.0, {"d": 10}, chapter="02_observations").save(run)  # a reader's run: not the edition's
    published = publish_claims("quick", run)
    assert [p.name for p in published] == ["01_setup.json"]
    with pytest.raises(ValueError, match="no claims of profile 'paper'"):
        publish_claims("paper", run)
    live = [table("paper", 1.05)]  # this build: the paper budget, where a passes
    frame, counts = budgets_side_by_side(live)
    assert counts["quick"] == {"pass": 1, "fail": 1, "not evaluated": 0, "not run": 0}
    assert counts["paper"] == {"pass": 2, "fail": 0, "not evaluated": 0, "not run": 0}
    assert frame.loc[("01_setup", "a"), "quick"] == "fail" and frame.loc[("01_setup", "a"), "paper measured"] == "1.05"
    md = edition_table_markdown(frame).splitlines()
    assert md[2].startswith("| 01_setup | a | **FAIL** 2") and "*not run*" not in md[2]  # the differing claim first
    only_quick, n = budgets_side_by_side([table("quick", 2.0)])
    assert n["paper"]["not run"] == 2 and only_quick.loc[("01_setup", "b"), "paper"] == "not run"


def test_not_run_clause_reads_the_count():
    from icl.pipeline.scorecard import not_run_clause

    assert not_run_clause(0) == "every claim has been run at this budget"
    assert not_run_clause(12) == "12 have not been run at this budget yet"


def test_a_finding_is_one_of_four_and_kept_only_on_a_failing_claim():
    with pytest.raises(ValueError, match="finding must be one of"):
        Claim("a", "s", "r", 1.0, 0.0, 0.5, finding="bad luck")
    t = ClaimsTable("01_x", meta={"profile": "paper"})
    assert t.add("ok", "s", "r", 0.1, 0.0, 0.5, finding="paper").finding is None
    assert t.add("bad", "s", "r", 0.9, 0.0, 0.5, finding="paper").finding == "paper"
    assert t.add("unclassified", "s", "r", 0.9, 0.0, 0.5).finding is None
    assert "(paper)" in t.to_markdown()


def test_a_smaller_budget_fails_for_the_budget_where_the_paper_edition_passes(tmp_path, monkeypatch):
    import json

    from icl.book import claims as claims_module

    (tmp_path / "01_x.json").write_text(
        json.dumps(
            {"chapter": "01_x", "claims": [{"id": "holds_later", "status": "pass"}, {"id": "never", "status": "fail"}]}
        )
    )
    monkeypatch.setattr(claims_module, "published_claims_dir", lambda profile: tmp_path)
    quick = ClaimsTable("01_x", meta={"profile": "quick"})
    later = quick.add("holds_later", "s", "r", 0.9, 0.0, 0.5, finding="paper")
    assert later.finding == "budget" and "passes at the authors' budget" in later.note
    assert quick.add("never", "s", "r", 0.9, 0.0, 0.5, finding="paper").finding == "paper"
    rerun = ClaimsTable("01_x", meta={"profile": "quick", "params": {"d": 10}})  # another question: no inference
    assert rerun.add("holds_later", "s", "r", 0.9, 0.0, 0.5, finding="paper").finding == "paper"


def test_a_claim_repeating_another_chapters_is_shown_not_counted():
    t = ClaimsTable("01_x", meta={"profile": "paper"})
    t.add("mine", "s", "r", 0.1, 0.0, 0.5)
    t.add("repeat", "s", "r", 0.9, 0.0, 0.5, same_as="02_y/theirs")
    assert t.counts() == {"pass": 1, "fail": 0, "not evaluated": 0}
    assert [c.id for c in t.counted()] == ["mine"] and "same statement as 02_y/theirs" in t.to_markdown()


def test_a_finding_or_repeat_holds_at_the_papers_parameters_only():
    assert ClaimsTable("01_x", meta={"profile": "quick", "params": {}}).at_paper("paper") == "paper"
    assert ClaimsTable("01_x", meta={"profile": "quick", "params": {"d": 10}}).at_paper("paper") is None
