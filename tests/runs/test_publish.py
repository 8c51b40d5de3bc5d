"""Published results (icl.runs.publish), their verification (icl.pipeline.verify) and the model plan
(icl.pipeline.plan)."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file, save_file

import icl.runs.load as load
from icl.core.data import TaskConfig
from icl.core.engine import TrainConfig
from icl.core.models import ModelConfig
from icl.pipeline.verify import format_report, verify
from icl.runs import store
from icl.runs.config import RunConfig
from icl.runs.load import cached_run, load_or_train
from icl.runs.publish import ROOT, publish_run, published_keys, read_published


def cfg(seed=0, heads=2, steps=60):
    return RunConfig(
        TaskConfig(), ModelConfig(heads=heads), TrainConfig(steps=steps, batch=16, seed=seed, n_snapshots=8)
    )


@pytest.fixture
def published(tmp_path, monkeypatch):
    """A model trained into a cache, published into a results folder, and the cache emptied."""
    monkeypatch.setenv("ICL_RESULTS_DIR", str(tmp_path / "results"))
    run = load_or_train(cfg(), cache_dir=tmp_path / "cache", device="cpu", verbose=False)
    path = publish_run(run, tmp_path / "results")
    return run, path, tmp_path / "empty-cache"


def test_published_run_is_read_back_as_a_cache_hit(published, monkeypatch):
    run, path, empty = published
    assert path.parent.parent.name == "custom" and published_keys("custom") == [cfg().key()]

    def no_training(*a, **k):
        raise AssertionError("trained although the model is published")

    monkeypatch.setattr(load, "train_groups", no_training)
    back = load_or_train(cfg(), cache_dir=empty, device="cpu")
    assert back.losses is None
    assert torch.equal(back.factors, run.factors)
    np.testing.assert_array_equal(back.snapshot_kq, run.snapshot_kq)
    assert back.final_loss() == pytest.approx(run.final_loss(), rel=1e-12)
    np.testing.assert_allclose(back.loss_curve()[1], run.loss_curve()[1], rtol=1e-12)
    assert back.provenance["published"].endswith(cfg().key()) and back.provenance["git_commit"]
    assert back.provenance["arithmetic"]["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    with pytest.raises(ValueError, match="window"):
        back.final_loss(window=10)
    with pytest.raises(ValueError, match="per-step losses"):
        publish_run(back, path.parents[2])


def test_a_published_model_is_ignored_when_stale_or_disabled(published, monkeypatch):
    _, path, empty = published
    monkeypatch.setenv("ICL_PUBLISHED", "0")
    assert cached_run(cfg(), empty) is None
    monkeypatch.delenv("ICL_PUBLISHED")
    assert cached_run(cfg(), empty) is not None
    assert read_published(cfg(seed=1)) is None  # never published
    meta = json.loads((path / "meta.json").read_text())
    (path / "meta.json").write_text(json.dumps({**meta, "version": f"{meta['version']}-other"}))
    assert read_published(cfg()) is None  # made by another code version: stale, so trained
    (path / "meta.json").write_text(json.dumps({**meta, "config": cfg(heads=3).to_dict()}))
    assert read_published(cfg()) is None  # made for another configuration


def _flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_corrupt_published_model_raises_naming_the_file_and_how_to_restore_it_instead_of_retraining(
    published, monkeypatch
):
    from icl.runs.publish import CorruptPublication

    _, path, empty = published
    recorded = json.loads((path / "meta.json").read_text())["sha256"]
    _flip_a_byte(path / "arrays.safetensors")
    found = store.sha256(path / "arrays.safetensors")

    def no_training(*a, **k):
        raise AssertionError("retrained a corrupt publication without ICL_RETRAIN_CORRUPT=1")

    monkeypatch.setattr(load, "train_groups", no_training)
    with pytest.raises(CorruptPublication) as e:
        load_or_train(cfg(), cache_dir=empty, device="cpu")
    msg = str(e.value)
    assert isinstance(e.value, ValueError) and e.value.path == path and "\n" not in msg
    assert f"{path} is corrupt: arrays.safetensors fails its SHA-256 check" in msg
    assert f"meta.json records {recorded}, the file has {found}" in msg
    assert f"git checkout -- results/custom/models/{cfg().key()}" in msg and "ICL_RETRAIN_CORRUPT=1" in msg
    # retraining it needs the opt-in
    monkeypatch.setenv("ICL_RETRAIN_CORRUPT", "1")
    with pytest.warns(UserWarning, match="ICL_RETRAIN_CORRUPT=1: retraining the published model"):
        assert cached_run(cfg(), empty) is None


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda p: (p / "meta.json").write_text('{"key": "trunc'), "meta.json cannot be read (JSONDecodeError"),
        (lambda p: (p / "meta.json").unlink(), "meta.json cannot be read (FileNotFoundError"),
        (lambda p: (p / "arrays.safetensors").unlink(), "arrays.safetensors cannot be read (FileNotFoundError"),
    ],
)
def test_a_published_model_whose_files_cannot_be_read_is_corrupt_not_missing(published, damage, problem):
    from icl.runs.publish import CorruptPublication

    _, path, empty = published
    damage(path)
    with pytest.raises(CorruptPublication, match=re.escape(problem)):
        cached_run(cfg(), empty)


def test_icl_plan_and_sweep_stop_at_a_corrupt_publication_with_one_message(tmp_path, monkeypatch, capsys):
    """The CLI prints the error (no traceback) and exits 2; with ICL_RETRAIN_CORRUPT=1 the plan lists the model
    to train."""
    from icl.cli import main
    from icl.pipeline.plan import chapter_configs

    monkeypatch.setenv("ICL_RESULTS_DIR", str(tmp_path / "results"))
    (c,) = chapter_configs("01_setup", "smoke")
    path = publish_run(load_or_train(c, cache_dir=tmp_path / "cache", device="cpu", verbose=False), profile="smoke")
    _flip_a_byte(path / "arrays.safetensors")
    empty = str(tmp_path / "empty-cache")
    assert main(["plan", "--profile", "smoke", "--cache-dir", empty, "01_setup"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("icl plan: error: the published model") and "SHA-256" in err and "Traceback" not in err
    sweep = [
        "sweep",
        "--profile",
        "smoke",
        "--heads",
        "2",
        "--seeds",
        "0",
        "--cache-dir",
        empty,
        "--quiet",
        "--device",
        "cpu",
    ]
    assert main(sweep) == 2 and "is corrupt" in capsys.readouterr().err
    monkeypatch.setenv("ICL_RETRAIN_CORRUPT", "1")
    with pytest.warns(UserWarning, match="corrupt"):
        assert main(["plan", "--profile", "smoke", "--cache-dir", empty, "01_setup"]) == 0
    assert "1 models (0 available, 1 to train)" in capsys.readouterr().out


def test_verify_reproduces_the_publication_bit_for_bit_and_catches_a_change(published):
    _, path, _ = published
    full = verify(cfg().key(), root=path.parents[2])
    assert full.ok and full.exact and full.steps == 60 and "final weights" in full.max_diff
    assert set(full.max_diff.values()) == {0.0}
    prefix = verify(cfg().key(), steps=20, root=path.parents[2])
    assert prefix.ok and 0 < prefix.snapshots < full.snapshots and 0 < prefix.loss_bins < full.loss_bins
    assert "bit for bit" in format_report(prefix)
    # a publication whose snapshot differs in the last bit of one number is caught
    a = load_file(str(path / "arrays.safetensors"))
    a["snapshot_kq"][1, 0, 0, 0] = np.nextafter(a["snapshot_kq"][1, 0, 0, 0], np.float32(1))
    save_file(a, str(path / "arrays.safetensors"))
    bad = verify(cfg().key(), steps=20, root=path.parents[2])
    assert not bad.ok and bad.mismatches[0].endswith("KQ") and "MISMATCH" in format_report(bad)
    with pytest.raises(ValueError, match="steps"):
        verify(cfg().key(), steps=0, root=path.parents[2])
    with pytest.raises(ValueError, match="not published"):
        verify("0123456789abcdef", root=path.parents[2])


def test_verify_refuses_another_kind_of_device_than_the_training_one(published):
    """A GPU draws other prompts than a CPU: a model trained on one is not verified on the other."""
    _, path, _ = published
    meta = json.loads((path / "meta.json").read_text())
    meta["provenance"]["device"] = "cuda:0"
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="device='cpu'.*trained on cuda"):
        verify(cfg().key(), steps=20, root=path.parents[2])


def _verify_in_subprocess(key, capability):
    """`icl verify KEY --steps 1000` in a fresh process whose torch runs ATen's `capability` kernels
    (everything else as icl pins it): (exit status, output)."""
    env = {k: v for k, v in os.environ.items() if k != "ICL_KERNELS"}
    env.update(ATEN_CPU_CAPABILITY=capability, ICL_RESULTS_DIR=str(ROOT / "results"))
    out = subprocess.run(
        [sys.executable, "-m", "icl.cli", "verify", key, "--steps", "1000"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return out.returncode, out.stdout + out.stderr


def _a_cpu_paper_model():
    models = ROOT / "results" / "paper" / "models"
    keys = [
        k
        for k in published_keys("paper", ROOT / "results")
        if json.loads((models / k / "meta.json").read_text())["provenance"]["device"] == "cpu"
    ]
    assert keys, "no CPU-trained paper-profile model is published under results/paper/models"
    return keys[0], json.loads((models / keys[0] / "meta.json").read_text())["provenance"]["arithmetic"]


def test_published_paper_model_prefix_reproduces_bit_for_bit_under_its_recorded_kernels():
    """The first 1 000 steps of a paper-edition model, retrained under the kernel set its provenance
    records (ATen AVX2, which icl pins), give the published snapshots and loss bins bit for bit: a
    change to the training math (data stream, init, update) that would invalidate the published
    weights fails this test, on any x86 machine with AVX2, not only the one that trained it."""
    from icl.arithmetic import _cpu_flags

    key, recorded = _a_cpu_paper_model()
    assert recorded["torch_cpu_capability"] == "AVX2"
    if "avx2" not in (_cpu_flags() or set()):
        pytest.skip("this CPU has no AVX2: the recorded kernel set cannot run here (the tolerance test still runs)")
    rc, out = _verify_in_subprocess(key, "avx2")
    assert rc == 0 and "OK: agreement bit for bit (largest difference 0)" in out, out
    assert "NOT BIT FOR BIT" not in out


def test_verify_on_another_capability_reports_its_tolerance_and_does_not_fail():
    """Under ATen's `default` kernels (no vector instructions: another summation order on every CPU)
    the same check cannot be bit for bit: it says so and why, and passes within the float32
    tolerance instead of failing because the reader's CPU differs."""
    key, _ = _a_cpu_paper_model()
    rc, out = _verify_in_subprocess(key, "default")
    assert rc == 0, out
    assert "NOT BIT FOR BIT" in out and "torch_cpu_capability: AVX2 when trained, DEFAULT here" in out, out
    worst = float(out.rsplit("largest difference ", 1)[1].split(")")[0])
    assert 0 < worst < 1e-5, out  # differs in the last bits, agrees far inside the tolerance


def test_verify_exit_status_separates_mismatch_from_inconclusive():
    from icl.pipeline.verify import Report

    exact = Report("k", (0,), 10, 10, "cpu", True, 1e-4, snapshots=3)
    assert exact.exit_status == 0
    exact.mismatches.append("seed 0: snapshot 2 OV")
    assert exact.exit_status == 1  # where bit for bit was expected, any difference is real
    other = Report(
        "k",
        (0,),
        10,
        10,
        "cpu",
        False,
        1e-4,
        snapshots=3,
        mismatches=["seed 0: final weights"],
        why_not_exact={"torch_cpu_capability": ("AVX2", "AVX512")},
    )
    assert other.exit_status == 3 and "INCONCLUSIVE" in format_report(other)
    assert Report("k", (0,), 10, 10, "cpu", True, 1e-4).exit_status == 1  # nothing compared


def test_every_published_key_is_still_its_configs_hash():
    """Keys hash the configuration (and CODE_VERSION), not module paths: after the package's
    restructuring every published model is still found under the key its config hashes to."""
    metas = list((ROOT / "results").glob("*/models/*/meta.json"))
    assert len(metas) >= 100
    for p in metas:
        meta = json.loads(p.read_text())
        assert RunConfig.from_dict(meta["config"]).key() == meta["key"] == p.parent.name


def test_published_results_have_provenance_and_stay_small():
    from icl.pipeline.execute import chapter_sources
    from icl.pipeline.plan import chapter_configs

    root = ROOT / "results"
    metas = {p: json.loads(p.read_text()) for p in root.glob("*/models/*/meta.json")}
    assert metas
    # the paper edition holds the models its chapters load at the authors' 500 000 steps (chapter 12 varies
    # the batch and the optimiser around them), and nothing else
    paper_plan = {c.key() for p in chapter_sources() for c in chapter_configs(p.stem, "paper")}
    for p, m in metas.items():
        prov = m["provenance"]
        assert p.parent.name == m["key"] and prov.get("torch") and prov.get("wall_seconds") is not None
        assert m["environment"]["lock_sha256"] and m["published"]["git_commit"]
        arith = prov.get("arithmetic") or {}
        assert arith.get("torch_cpu_capability") and arith.get("torch") == prov["torch"], (m["key"], "arithmetic")
        if p.parts[-4] == "paper":  # trained after the provenance recorded its commit and total wall time
            assert m["config"]["train"]["steps"] == 500_000 and m["key"] in paper_plan, (m["key"], "not in the plan")
            for k in ("git_commit", "device_name", "wall_seconds_total", "model_steps_per_second"):
                assert prov.get(k) is not None, (m["key"], k)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size < 20e6, f"results/ holds {size / 1e6:.1f} MB (the budget is 20 MB)"


# --- the plan ----------------------------------------------------------------------------------------


def test_plan_lists_each_model_once_in_groups(tmp_path):
    from icl.chapters.ch02_observations import configs as obs_configs
    from icl.pipeline.plan import chapter_configs, format_plan, plan

    c01 = chapter_configs("01_setup", "smoke")
    c02 = chapter_configs("02_observations", "smoke")
    assert len(c01) == 1 and c01[0] in c02 and chapter_configs("04_training_stages", "smoke") == []
    assert [c.model.heads for c in c02] == [1, 2, 3, 4, 6, 8]
    from icl.book.chapter import start

    assert c02 == obs_configs(start("02_observations", "smoke", "cpu"))  # the chapter's own list
    groups = plan("smoke", ["01", "02"], cache_dir=tmp_path)
    assert sum(len(g.configs) for g in groups) == 6  # chapter 01's model is chapter 02's H = 2 one
    assert groups[0].chapters == ["01_setup", "02_observations"] and groups[0].missing == 1
    text = format_plan(groups, "smoke")
    assert "6 models (0 available, 6 to train)" in text and "1,800 of 1,800 model-steps missing" in text
    with pytest.raises(ValueError, match="chapter"):
        chapter_configs("13_nothing", "smoke")
    ten = chapter_configs("10_multitask_superposition", "smoke")
    assert ten and all(c.task.d == 6 and c.task.n_tasks == 2 for c in ten)  # the chapter's own task


def test_plan_lists_the_rerun_pages_model_with_the_pages_own_parameters():
    """The rerun page trains chapter 01 at other (d, L, σ²): its model is in the plan (so the
    paper edition publishes it), with the parameters the page's parameter cell names."""
    import ast

    from icl.pipeline.execute import chapter_sources
    from icl.pipeline.plan import chapter_configs
    from icl.pipeline.rerun import EXAMPLE

    src = next(p for p in chapter_sources() if p.stem == "98_rerun").read_text()
    (cell,) = [ln for ln in src.splitlines() if ln.startswith("rerun = ")]
    assert ast.literal_eval(cell.split("=", 1)[1].split("#")[0].strip()) == EXAMPLE
    (c,) = chapter_configs("98_rerun", "smoke")
    assert (c.task.d, c.task.L, c.task.sigma2) == (EXAMPLE["d"], EXAMPLE["L"], EXAMPLE["sigma2"])
    (other,) = chapter_configs("98_rerun", "smoke", rerun={"d": 3, "L": 20, "sigma2": 0.1})
    assert (other.task.d, other.task.L) == (3, 20)


def test_plan_trains_missing_groups_in_workers_and_publishes(tmp_path, monkeypatch):
    from icl.pipeline.plan import plan, train_plan

    monkeypatch.setenv("ICL_RESULTS_DIR", str(tmp_path / "results"))
    cache = tmp_path / "cache"
    groups = plan("smoke", ["05"], cache_dir=cache)
    assert [g.missing for g in groups] == [1]
    logged = []
    train_plan(groups, workers=2, cache_dir=cache, device="cpu", publish_dir=tmp_path / "results", log=logged.append)
    assert published_keys("smoke") == [groups[0].configs[0].key()]
    again = plan("smoke", ["05"], cache_dir=cache)
    assert again[0].available == 1 and again[0].missing_steps == 0
    train_plan(again, cache_dir=cache, log=logged.append)
    assert "nothing to train" in logged[-1]
    with pytest.raises(ValueError, match="workers"):
        train_plan(groups, workers=0, cache_dir=cache)


def test_plan_trains_through_a_submitit_executor(tmp_path, monkeypatch):
    """`icl plan --train --executor local` (the same job objects as Slurm's, as local subprocesses)."""
    from icl.pipeline.plan import plan, train_plan
    from icl.runs.executors import make_executor

    monkeypatch.setenv("ICL_RESULTS_DIR", str(tmp_path / "results"))
    cache = tmp_path / "cache"
    groups = plan("smoke", ["01"], cache_dir=cache)
    train_plan(
        groups,
        cache_dir=cache,
        device="cpu",
        executor=make_executor("local", tmp_path / "logs"),
        publish_dir=tmp_path / "results",
    )
    assert plan("smoke", ["01"], cache_dir=cache)[0].available == 1
    assert published_keys("smoke") == [groups[0].configs[0].key()]


def test_training_by_chapter_counts_each_groups_wall_time_once_for_the_first_chapter(tmp_path):
    from icl.pipeline.plan import plan
    from icl.pipeline.scorecard import training_by_chapter

    groups = plan("smoke", ["01", "02"], cache_dir=tmp_path / "none")
    h2 = next(g for g in groups if g.chapters == ["01_setup", "02_observations"])
    h8 = next(g for g in groups if g.configs[0].model.heads == 8)
    for c, wall in [(c, 3600.0) for c in h2.configs] + [(h8.configs[0], 1800.0)]:  # one group run, one segment
        meta = tmp_path / "smoke" / "models" / c.key() / "meta.json"
        meta.parent.mkdir(parents=True)
        meta.write_text(json.dumps({"provenance": {"wall_seconds": wall, "finished": f"run-{wall}"}}))
    t = training_by_chapter("smoke", root=tmp_path).set_index("chapter")
    assert t.loc["01_setup", "training wall (h)"] == 1.0 and t.loc["01_setup", "models trained for it"] == 1
    assert t.loc["02_observations", "models read"] == 6 and t.loc["02_observations", "published"] == 2
    assert t.loc["02_observations", "models trained for it"] == 1  # its H = 2 model is chapter 01's
    assert t.loc["02_observations", "training wall (h)"] == 0.5
    assert t.loc["total", "training wall (h)"] == 1.5 and t.loc["total", "models trained for it"] == 2
    assert t.loc["10_multitask_superposition", "published"] == 0
