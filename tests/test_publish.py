"""Published results (icl.publish), their verification (icl.verify) and the model plan (icl.plan)."""

import json

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file, save_file

import icl.experiments as ex
from icl.data import TaskConfig
from icl.engine import TrainConfig
from icl.experiments import RunConfig, cached_run, load_or_train
from icl.models import ModelConfig
from icl.publish import ROOT, publish_run, published_keys, read_published
from icl.verify import format_report, verify


def cfg(seed=0, heads=2, steps=60):
    return RunConfig(TaskConfig(), ModelConfig(heads=heads), TrainConfig(steps=steps, batch=16, seed=seed, n_snapshots=8))


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

    monkeypatch.setattr(ex, "_train_group", no_training)
    back = load_or_train(cfg(), cache_dir=empty, device="cpu")
    assert back.losses is None
    assert torch.equal(back.factors, run.factors)
    np.testing.assert_array_equal(back.snapshot_kq, run.snapshot_kq)
    assert back.final_loss() == pytest.approx(run.final_loss(), rel=1e-12)
    np.testing.assert_allclose(back.loss_curve()[1], run.loss_curve()[1], rtol=1e-12)
    assert back.provenance["published"].endswith(cfg().key()) and back.provenance["git_commit"]
    with pytest.raises(ValueError, match="window"):
        back.final_loss(window=10)
    with pytest.raises(ValueError, match="per-step losses"):
        publish_run(back, path.parents[2])


def test_a_published_model_is_ignored_when_altered_or_disabled(published, monkeypatch):
    _, path, empty = published
    monkeypatch.setenv("ICL_PUBLISHED", "0")
    assert cached_run(cfg(), empty) is None
    monkeypatch.delenv("ICL_PUBLISHED")
    assert cached_run(cfg(), empty) is not None
    a = load_file(str(path / "arrays.safetensors"))
    a["factors"] = a["factors"] * 1.001
    save_file(a, str(path / "arrays.safetensors"))
    assert read_published(cfg()) is None  # its hash no longer matches meta.json
    assert read_published(cfg(seed=1)) is None  # never published


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


def test_published_paper_model_prefix_reproduces():
    """The first 1 000 steps of a model of the paper edition, retrained here, give the published
    snapshots and loss bins bit for bit: a change to the training math (data stream, init, update)
    that would invalidate the published weights fails this test."""
    models = ROOT / "results" / "paper" / "models"
    keys = [k for k in published_keys("paper", ROOT / "results")
            if json.loads((models / k / "meta.json").read_text())["provenance"]["device"] == "cpu"]
    assert keys, "no CPU-trained paper-profile model is published under results/paper/models"
    rep = verify(keys[0], steps=1_000, root=ROOT / "results")
    assert rep.ok and rep.exact, format_report(rep)
    assert rep.snapshots >= 10 and rep.loss_bins >= 50


def test_published_results_have_provenance_and_stay_small():
    root = ROOT / "results"
    metas = {p: json.loads(p.read_text()) for p in root.glob("*/models/*/meta.json")}
    assert metas
    for p, m in metas.items():
        prov = m["provenance"]
        assert p.parent.name == m["key"] and prov.get("torch") and prov.get("wall_seconds") is not None
        assert m["environment"]["lock_sha256"] and m["published"]["git_commit"]
        if p.parts[-4] == "paper":  # trained after the provenance recorded its commit and total wall time
            assert (m["config"]["train"]["steps"], m["config"]["train"]["batch"]) == (500_000, 256)
            for k in ("git_commit", "device_name", "wall_seconds_total", "model_steps_per_second"):
                assert prov.get(k) is not None, (m["key"], k)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size < 20e6, f"results/ holds {size / 1e6:.1f} MB (the budget is 20 MB)"


# --- the plan ----------------------------------------------------------------------------------------


def test_plan_lists_each_model_once_in_groups(tmp_path):
    from icl.observations import configs as obs_configs
    from icl.plan import chapter_configs, format_plan, plan

    c01 = chapter_configs("01_setup", "smoke")
    c02 = chapter_configs("02_observations", "smoke")
    assert len(c01) == 1 and c01[0] in c02 and chapter_configs("04_training_stages", "smoke") == []
    assert [c.model.heads for c in c02] == [1, 2, 3, 4, 6, 8]
    from icl.chapter import start

    assert c02 == obs_configs(start("02_observations", "smoke", "cpu"))  # the chapter's own list
    groups = plan("smoke", ["01", "02"], cache_dir=tmp_path)
    assert sum(len(g.configs) for g in groups) == 6  # chapter 01's model is chapter 02's H = 2 one
    assert groups[0].chapters == ["01_setup", "02_observations"] and groups[0].missing == 1
    text = format_plan(groups, "smoke")
    assert "6 models (0 available, 6 to train)" in text and "1,800 of 1,800 model-steps missing" in text
    with pytest.raises(ValueError, match="chapter"):
        chapter_configs("12_nothing", "smoke")
    ten = chapter_configs("10_multitask_superposition", "smoke")
    assert ten and all(c.task.d == 6 and c.task.n_tasks == 2 for c in ten)  # the chapter's own task


def test_plan_lists_the_rerun_pages_model_with_the_pages_own_parameters():
    """The rerun page trains chapter 01 at other (d, L, σ²): its model is in the plan (so the
    paper edition publishes it), with the parameters the page's parameter cell names."""
    import ast

    from icl.pipeline import chapter_sources
    from icl.plan import chapter_configs
    from icl.rerun_example import EXAMPLE

    src = next(p for p in chapter_sources() if p.stem == "98_rerun").read_text()
    (cell,) = [ln for ln in src.splitlines() if ln.startswith("rerun = ")]
    assert ast.literal_eval(cell.split("=", 1)[1].split("#")[0].strip()) == EXAMPLE
    (c,) = chapter_configs("98_rerun", "smoke")
    assert (c.task.d, c.task.L, c.task.sigma2) == (EXAMPLE["d"], EXAMPLE["L"], EXAMPLE["sigma2"])
    (other,) = chapter_configs("98_rerun", "smoke", rerun={"d": 3, "L": 20, "sigma2": 0.1})
    assert (other.task.d, other.task.L) == (3, 20)


def test_plan_trains_missing_groups_in_workers_and_publishes(tmp_path, monkeypatch):
    from icl.plan import plan, train_plan

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
    from icl.executors import make_executor
    from icl.plan import plan, train_plan

    monkeypatch.setenv("ICL_RESULTS_DIR", str(tmp_path / "results"))
    cache = tmp_path / "cache"
    groups = plan("smoke", ["01"], cache_dir=cache)
    train_plan(groups, cache_dir=cache, device="cpu", executor=make_executor("local", tmp_path / "logs"),
               publish_dir=tmp_path / "results")
    assert plan("smoke", ["01"], cache_dir=cache)[0].available == 1
    assert published_keys("smoke") == [groups[0].configs[0].key()]


def test_training_by_chapter_counts_each_groups_wall_time_once_for_the_first_chapter(tmp_path):
    from icl.plan import plan
    from icl.publish import training_by_chapter

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
