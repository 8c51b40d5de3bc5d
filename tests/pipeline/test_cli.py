import json

import pytest

from icl.cli import main


def test_sweep_fills_the_cache_and_reuses_it(tmp_path, capsys):
    args = [
        "sweep",
        "--profile",
        "smoke",
        "--steps",
        "20",
        "--heads",
        "1,2",
        "--seeds",
        "0,1",
        "--cache-dir",
        str(tmp_path),
        "--quiet",
        "--device",
        "cpu",
    ]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert first.count("trained 2 model(s)") == 2  # seeds batched, one run per head count
    assert len([p for p in tmp_path.iterdir() if p.is_dir() and p.name != "partial"]) == 4
    assert main(args) == 0
    assert "trained" not in capsys.readouterr().out  # all four from the cache


def test_bad_arguments_give_a_message_naming_them(capsys):
    assert main(["sweep", "--profile", "smoke", "--normalisation", "tanh", "--quiet"]) == 2
    assert "normalisation" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", "--heads", "two"])
    assert "--heads" in capsys.readouterr().err


def test_bench_measures_both_implementations(tmp_path):
    from icl.pipeline.bench import format_table, run_benchmark

    out = tmp_path / "bench.json"
    result = run_benchmark(
        heads=(1,),
        batched_models=2,
        batched_heads=1,
        device="cpu",
        seconds=0.05,
        out=out,
        echo=lambda s: None,
        compiled=False,
    )
    saved = json.loads(out.read_text())
    assert saved["single"][0]["engine"]["steps_per_s"] > 0 and saved["batched"]["models"] == 2
    assert all(b["steps_per_s"] > 0 and b["impl"] == "authors" for b in saved["single"][0]["baseline"])
    assert saved["single"][0]["naive"]["impl"] == "naive" and saved["single"][0]["naive"]["steps_per_s"] > 0
    assert "| 1 | 2 |" in format_table(result)


def test_bench_plan_trains_the_chosen_chapters_real_groups_and_prints_its_projection_last(capsys):
    """`icl bench --plan`: the plan's groups for a few seconds from an empty cache; the last line a JSON
    object whose totals are the plan's, with the prefetch choice it ran."""
    from icl.cli import main
    from icl.pipeline.plan import plan

    argv = ["bench", "--plan", "smoke", "--chapters", "01_setup", "--seconds", "3", "--workers", "1"]
    assert main([*argv, "--prefetch", "off"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    groups = plan("smoke", ["01_setup"])
    assert out["chapters"] == ["01_setup"] and out["groups"] == len(groups) and out["prefetch"] is False
    assert out["total_model_steps"] == sum(g.model_steps for g in groups)
    # a loaded machine may report nothing in 3 s: the projection then rests on the probes alone
    assert out["model_steps_done"] >= 0 and out["projected_seconds"] > 0 and out["workers"] == 1
    assert out["pieces_measured"] > 0 or out["probe_to_measured"] == 1.0
    with pytest.raises(SystemExit):
        main([*argv, "--prefetch", "maybe"])


def test_a_failed_chapter_prints_one_line_with_the_exception_its_kernel_raised():
    """`icl chapters` names what the kernel raised (e.g. a corrupt publication), not a traceback line."""
    from papermill.exceptions import PapermillExecutionError

    from icl.cli import _failure_line

    msg = (
        "the published model results/paper/models/0009279b9a38d39d is corrupt: "
        "arrays.safetensors fails its SHA-256 check"
    )
    err = PapermillExecutionError(
        3,
        4,
        "run = load_or_train(c)",
        "CorruptPublication",
        msg,
        ["\x1b[0;31mTraceback\x1b[0m", f"\x1b[0;31mCorruptPublication\x1b[0m: {msg}"],
    )
    assert _failure_line(err) == f"CorruptPublication: {msg}"
    assert _failure_line(RuntimeError("first\nlast line")) == "RuntimeError: last line"
