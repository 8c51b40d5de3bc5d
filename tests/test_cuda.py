"""The CUDA path: the engine, the cache and the estimators on a GPU. Skipped where there is none
(CI has none); run on a GPU machine with `pytest tests/test_cuda.py`.

A GPU run draws its prompts from CUDA's generator, another stream than the CPU's, so a model
trained on a GPU is a different sample of the same training process, not the CPU's model to
rounding: these tests compare a GPU with itself bit for bit, with autograd to float64 rounding,
and with the CPU in distribution only.
"""

import numpy as np
import pytest
import torch

from icl.data import TaskConfig
from icl.engine import TrainConfig, Trainer, autograd_loss_and_grad, softmax_loss_and_grad
from icl.experiments import RunConfig, cached_run, load_or_train
from icl.models import ModelConfig

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

TASK = TaskConfig()
SMALL = TrainConfig(steps=60, batch=32, n_snapshots=6)


@pytest.mark.parametrize("normalisation", ["softmax", "linear"])
def test_hand_written_gradient_equals_autograd_on_cuda(normalisation):
    tr = Trainer(TASK, ModelConfig(heads=3, normalisation=normalisation), SMALL, [1, 2], device="cuda")
    tr.model.double()
    tr.theta = tr.model.factors.data
    Z, xq, yq = (t.double() for t in tr.sample())
    l2, g2 = autograd_loss_and_grad(tr.model, Z, xq, yq)
    if normalisation == "softmax":
        l1, g1 = softmax_loss_and_grad(tr.theta, Z, xq, yq, TASK.d, tr.model.scale)
        assert torch.allclose(l1, l2, rtol=1e-12)
        assert torch.allclose(g1, g2, rtol=1e-10, atol=1e-14)
    assert g2.is_cuda and torch.isfinite(g2).all()


def test_a_cuda_run_is_reproducible_bit_for_bit():
    a = Trainer(TASK, ModelConfig(heads=2), SMALL, [3, 4], device="cuda").run()
    b = Trainer(TASK, ModelConfig(heads=2), SMALL, [3, 4], device="cuda").run()
    assert a.theta.is_cuda
    assert torch.equal(a.losses, b.losses) and torch.equal(a.theta, b.theta)


def test_a_resumed_cuda_run_is_bit_identical():
    full = Trainer(TASK, ModelConfig(heads=2), SMALL, [9, 10], device="cuda").run()
    part = Trainer(TASK, ModelConfig(heads=2), SMALL, [9, 10], device="cuda").run(until=25)
    state = part.state_dict()
    resumed = Trainer(TASK, ModelConfig(heads=2), SMALL, [9, 10], device="cuda").load_state_dict(state).run()
    assert torch.equal(full.losses, resumed.losses) and torch.equal(full.theta, resumed.theta)


def test_compiled_cuda_training_follows_the_eager_one():
    eager = Trainer(TASK, ModelConfig(heads=2), SMALL, [0, 1], device="cuda", compile=False).run()
    compiled = Trainer(TASK, ModelConfig(heads=2), SMALL, [0, 1], device="cuda", compile=True)
    assert compiled.compiled
    compiled.run()
    assert torch.allclose(eager.losses, compiled.losses, rtol=1e-4)
    assert torch.allclose(eager.theta, compiled.theta, rtol=1e-3, atol=1e-5)
    long = TrainConfig(steps=200_000, batch=32)
    assert Trainer(TASK, ModelConfig(heads=2), long, [0], device="cuda").compiled  # "auto" compiles long GPU runs


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
