import json

import numpy as np
import pytest
import torch

import icl.runs.load as load
from icl.core.data import TaskConfig
from icl.core.engine import TrainConfig, Trainer
from icl.core.models import ModelConfig
from icl.runs import store, training
from icl.runs.config import RunConfig, group_key
from icl.runs.load import load_or_train, load_or_train_many


def cfg(seed=0, heads=2, steps=40):
    return RunConfig(
        TaskConfig(), ModelConfig(heads=heads), TrainConfig(steps=steps, batch=16, seed=seed, n_snapshots=4)
    )


def test_key_depends_on_every_field():
    assert cfg().key() == cfg().key()
    assert len({cfg().key(), cfg(seed=1).key(), cfg(heads=3).key(), cfg(steps=41).key()}) == 4
    assert RunConfig.from_dict(json.loads(json.dumps(cfg().to_dict()))) == cfg()


def test_cache_returns_the_identical_result_without_training(tmp_path, monkeypatch):
    first = load_or_train(cfg(), cache_dir=tmp_path, device="cpu", verbose=False)

    def no_training(*a, **k):
        raise AssertionError("trained again")

    monkeypatch.setattr(load, "train_groups", no_training)
    second = load_or_train(cfg(), cache_dir=tmp_path, device="cpu")
    assert torch.equal(first.factors, second.factors)
    np.testing.assert_array_equal(first.losses, second.losses)
    np.testing.assert_array_equal(first.snapshot_kq, second.snapshot_kq)
    assert second.provenance["device"] == "cpu" and "torch" in second.provenance


def test_truncated_entry_is_ignored_and_retrained(tmp_path):
    first = load_or_train(cfg(), cache_dir=tmp_path, device="cpu", verbose=False)
    arrays = tmp_path / cfg().key() / "arrays.safetensors"
    data = arrays.read_bytes()
    arrays.write_bytes(data[: len(data) // 2])
    calls = []
    orig = load.train_groups

    def counting(groups, *a, **k):
        calls.append([len(g) for g in groups])
        return orig(groups, *a, **k)

    load.train_groups = counting
    try:
        again = load_or_train(cfg(), cache_dir=tmp_path, device="cpu", verbose=False)
    finally:
        load.train_groups = orig
    assert calls == [[1]]
    assert torch.equal(first.factors, again.factors)  # retrained from the same seed


def test_entry_for_another_config_is_not_read(tmp_path):
    load_or_train(cfg(), cache_dir=tmp_path, device="cpu", verbose=False)
    meta = tmp_path / cfg().key() / "meta.json"
    m = json.loads(meta.read_text())
    m["config"]["train"]["lr"] = 0.5
    meta.write_text(json.dumps(m))
    assert store.read_entry(tmp_path / cfg().key(), cfg()) is None


def test_seeds_are_batched_and_equal_single_runs(tmp_path):
    runs = load_or_train_many([cfg(seed=s) for s in (1, 2)], cache_dir=tmp_path / "a", device="cpu", verbose=False)
    assert runs[0].provenance["models_trained_together"] == 2
    alone = load_or_train(cfg(seed=2), cache_dir=tmp_path / "b", device="cpu", verbose=False)
    assert torch.equal(runs[1].factors, alone.factors)


def test_interrupted_training_resumes_from_its_checkpoint(tmp_path):
    c = cfg(steps=50)
    # simulate a run killed after its checkpoint at step 20
    tr = Trainer(c.task, c.model, c.train, [c.train.seed], device="cpu")
    tr.run(until=20)
    training.save_checkpoint(training.checkpoint_path([c], tmp_path), tr)
    resumed = load_or_train(c, cache_dir=tmp_path, device="cpu", verbose=False)
    assert resumed.provenance["resumed_from_step"] == 20
    fresh = load_or_train(c, cache_dir=tmp_path / "fresh", device="cpu", verbose=False)
    assert torch.equal(resumed.factors, fresh.factors)
    assert not (training.checkpoint_path([c], tmp_path)).exists()


def test_progress_lines_every_log_every_steps(tmp_path, capsys):
    c = cfg(steps=60)
    load_or_train_many(
        [c, cfg(seed=1, steps=60)], cache_dir=tmp_path, device="cpu", verbose=False, checkpoint_every=10, log_every=20
    )
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("[train")]
    assert [x.split(" step ")[1].split(" of ")[0] for x in lines] == ["20", "40", "60"]
    assert f"[train {group_key([c, cfg(seed=1, steps=60)])} H=2 softmax]" in lines[0]
    assert "model-steps/s" in lines[0] and lines[-1].endswith("0 min left")
    for bad in (15, 0, True):
        with pytest.raises(ValueError, match="log_every"):
            load_or_train_many([c], cache_dir=tmp_path / "x", device="cpu", checkpoint_every=10, log_every=bad)


def test_bad_configs_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="RunConfig"):
        load_or_train_many([{"heads": 2}], cache_dir=tmp_path)


def test_a_killed_run_resumes_to_the_same_result(tmp_path):
    """SIGKILL a training process after its first checkpoint; the next call resumes from it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    c = cfg(steps=4000)
    script = (
        "import sys; from icl import load_or_train, RunConfig; import json;"
        f"c = RunConfig.from_dict(json.loads({json.dumps(json.dumps(c.to_dict()))}));"
        f"load_or_train(c, cache_dir={str(tmp_path)!r}, device='cpu', checkpoint_every=100, verbose=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    ckpt = training.checkpoint_path([c], tmp_path)
    deadline = time.time() + 120
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert ckpt.exists(), "the process never wrote a checkpoint"
    assert not (tmp_path / c.key()).exists()  # nothing half-trained in the cache
    resumed = load_or_train(c, cache_dir=tmp_path, device="cpu", verbose=False)
    assert 0 < resumed.provenance["resumed_from_step"] < c.train.steps
    fresh = load_or_train(c, cache_dir=tmp_path / "fresh", device="cpu", verbose=False)
    assert torch.equal(resumed.factors, fresh.factors)
    np.testing.assert_array_equal(resumed.losses, fresh.losses)


def test_models_trained_together_are_stored_as_trained(tmp_path):
    """Read back from disk, each model of a batched run equals the same model trained alone."""
    load_or_train_many([cfg(seed=s) for s in (1, 2, 3)], cache_dir=tmp_path / "a", device="cpu", verbose=False)
    for s in (1, 2, 3):
        stored = store.read_entry(tmp_path / "a" / cfg(seed=s).key(), cfg(seed=s))
        assert stored is not None
        alone = load_or_train(cfg(seed=s), cache_dir=tmp_path / "b", device="cpu", verbose=False)
        np.testing.assert_array_equal(stored.losses, alone.losses)
        np.testing.assert_array_equal(stored.snapshot_kq, alone.snapshot_kq)
        np.testing.assert_array_equal(stored.snapshot_ov, alone.snapshot_ov)


def test_entry_with_scrambled_snapshots_is_not_read(tmp_path):
    from safetensors.numpy import load_file, save_file

    load_or_train(cfg(), cache_dir=tmp_path, device="cpu", verbose=False)
    path = tmp_path / cfg().key()
    a = load_file(str(path / "arrays.safetensors"))
    a["snapshot_kq"] = a["snapshot_kq"][::-1].copy()  # last snapshot no longer the stored weights
    save_file(a, str(path / "arrays.safetensors"))
    m = json.loads((path / "meta.json").read_text())
    m["sha256"] = store.sha256(path / "arrays.safetensors")  # a self-consistent but wrong entry
    (path / "meta.json").write_text(json.dumps(m))
    assert store.read_entry(path, cfg()) is None
