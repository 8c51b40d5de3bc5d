"""The CUDA path: the engine, the cache and the estimators on a GPU. Skipped where there is none
(CI has none); run on a GPU machine with `pytest tests/core/test_cuda.py tests/core/test_engine.py` (the
engine's gradient, determinism, resume and compile tests run on both devices there).

A GPU run draws its prompts from CUDA's generator, another stream than the CPU's, so a model
trained on a GPU is a different sample of the same training process, not the CPU's model to
rounding: a GPU is compared with itself bit for bit (in tests/core/test_engine.py) and with the CPU in
distribution only (here).
"""

import numpy as np
import pytest
import torch

from icl.core.data import TaskConfig
from icl.core.engine import TrainConfig, Trainer
from icl.core.models import ModelConfig
from icl.runs.config import RunConfig
from icl.runs.load import cached_run, load_or_train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

TASK = TaskConfig()


def test_auto_compiles_long_runs_on_cuda_only():
    long = TrainConfig(steps=200_000, batch=32)
    assert Trainer(TASK, ModelConfig(heads=2), long, [0], device="cuda").compiled
    assert not Trainer(TASK, ModelConfig(heads=2), long, [0], device="cpu").compiled


def test_cuda_training_matches_cpu_training_in_distribution():
    """Same config, 3 seeds, 2 000 steps at the paper's batch: the GPU's final loss (mean of the last
    500 steps over the seeds) is the CPU's within 10 % — different prompt streams, same process."""
    cfg = TrainConfig(steps=2_000, batch=256, n_snapshots=4)
    final = {}
    for dev in ("cpu", "cuda"):
        tr = Trainer(TASK, ModelConfig(heads=2), cfg, [0, 1, 2], device=dev).run()
        final[dev] = float(tr.losses[-500:].mean())
    assert abs(final["cuda"] / final["cpu"] - 1) < 0.10, final


def test_a_model_trained_on_cuda_is_cached_and_read_on_the_cpu(tmp_path):
    cfg = RunConfig(TASK, ModelConfig(heads=2), TrainConfig(steps=60, batch=16, seed=0, n_snapshots=6))
    run = load_or_train(cfg, cache_dir=tmp_path, device="cuda", verbose=False)
    back = cached_run(cfg, cache_dir=tmp_path)
    assert back is not None and back.provenance["device"].startswith("cuda")
    assert back.factors.device.type == "cpu" and torch.equal(back.factors, run.factors.cpu())
    np.testing.assert_array_equal(back.snapshot_kq, run.snapshot_kq)
    model = back.model(device="cuda")  # and it predicts on either device
    assert next(model.parameters()).is_cuda
