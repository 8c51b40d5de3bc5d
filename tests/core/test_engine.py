import pytest
import torch

from icl.core.data import TaskConfig
from icl.core.engine import (
    TrainConfig,
    Trainer,
    TrainingDiverged,
    autograd_loss_and_grad,
    resolve_device,
    softmax_loss_and_grad,
)
from icl.core.models import ModelConfig

TASK = TaskConfig()
SMALL = TrainConfig(steps=60, batch=32, n_snapshots=5)
# the tests of the engine's mathematics and determinism run on a GPU too, where there is one
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("supports", [None, ((1, 2, 3), (2, 3, 4, 5))])
def test_hand_written_gradient_equals_autograd(supports, device):
    task = TaskConfig(supports=supports)
    tr = Trainer(task, ModelConfig(heads=3), SMALL, [1, 2], device=device)
    tr.model.double()
    tr.theta = tr.model.factors.data
    Z, xq, yq = (t.double() for t in tr.sample())
    l1, g1 = softmax_loss_and_grad(tr.theta, Z, xq, yq, task.d, tr.model.scale)
    l2, g2 = autograd_loss_and_grad(tr.model, Z, xq, yq)
    assert torch.allclose(l1, l2, rtol=1e-12)
    assert torch.allclose(g1, g2, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("device", DEVICES)
def test_same_seed_gives_identical_losses(device):
    a = Trainer(TASK, ModelConfig(heads=2), SMALL, [3], device=device).run()
    b = Trainer(TASK, ModelConfig(heads=2), SMALL, [3], device=device).run()
    c = Trainer(TASK, ModelConfig(heads=2), SMALL, [4], device=device).run()
    assert a.theta.device.type == device
    assert torch.equal(a.losses, b.losses) and torch.equal(a.theta, b.theta)
    assert not torch.equal(a.losses, c.losses)


def test_models_trained_together_equal_models_trained_alone():
    together = Trainer(TASK, ModelConfig(heads=2), SMALL, [5, 6, 7], device="cpu").run()
    for m, seed in enumerate([5, 6, 7]):
        alone = Trainer(TASK, ModelConfig(heads=2), SMALL, [seed], device="cpu").run()
        assert torch.equal(together.losses[:, m], alone.losses[:, 0])
        assert torch.equal(together.theta[m], alone.theta[0])


def test_at_the_papers_batch_models_together_equal_alone_to_rounding_and_a_group_bit_for_bit():
    """Batch 256: several models per gradient call round differently from one (the documented
    limit of "equal to alone"); the same group retrained is bit for bit itself (`icl verify`)."""
    cfg = TrainConfig(steps=60, batch=256, n_snapshots=4)
    together = Trainer(TASK, ModelConfig(heads=2), cfg, [0, 1, 2], device="cpu").run()
    again = Trainer(TASK, ModelConfig(heads=2), cfg, [0, 1, 2], device="cpu").run()
    alone = Trainer(TASK, ModelConfig(heads=2), cfg, [2], device="cpu").run()
    assert together._chunk == 3 and torch.equal(together.theta, again.theta)
    assert torch.allclose(together.theta[2], alone.theta[0], rtol=0, atol=1e-5)


def test_prefetching_does_not_change_the_run():
    a = Trainer(TASK, ModelConfig(heads=2), SMALL, [8], device="cpu").run(prefetch=True, chunk=7)
    b = Trainer(TASK, ModelConfig(heads=2), SMALL, [8], device="cpu").run(prefetch=False)
    assert torch.equal(a.theta, b.theta) and torch.equal(a.losses, b.losses)


@pytest.mark.parametrize("device", DEVICES)
def test_resumed_run_is_bit_identical(device):
    full = Trainer(TASK, ModelConfig(heads=2), SMALL, [9, 10], device=device).run()
    part = Trainer(TASK, ModelConfig(heads=2), SMALL, [9, 10], device=device).run(until=25)
    state = part.state_dict()
    resumed = Trainer(TASK, ModelConfig(heads=2), SMALL, [9, 10], device=device).load_state_dict(state).run()
    assert resumed.step == full.step == SMALL.steps
    assert torch.equal(resumed.theta, full.theta)
    assert torch.equal(resumed.losses, full.losses)
    assert torch.equal(resumed.snap_kq, full.snap_kq)


def test_autograd_path_trains_like_the_hand_written_one():
    fast = Trainer(TASK, ModelConfig(heads=2), SMALL, [0], device="cpu").run()
    slow = Trainer(TASK, ModelConfig(heads=2), SMALL, [0], device="cpu")
    slow._fast = False  # the autograd path (Trainer(..., fast=False))
    slow.run()
    assert torch.allclose(fast.losses, slow.losses, rtol=1e-4)
    lin = Trainer(TASK, ModelConfig(heads=2, normalisation="linear"), SMALL, [0], device="cpu").run()
    assert torch.isfinite(lin.losses).all()


def test_divergence_stops_with_the_step_number():
    tr = Trainer(TASK, ModelConfig(heads=2), SMALL, [0], device="cpu").run(until=10)
    tr.theta[0, 0, 0, 0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match="step 11"):
        tr.run(chunk=5)


def test_snapshots_are_recorded_at_their_steps():
    tr = Trainer(TASK, ModelConfig(heads=2), SMALL, [0], device="cpu")
    kq0 = tr.model.kq().detach().clone()
    tr.run()
    assert tr.snap_steps[0] == 0 and tr.snap_steps[-1] == SMALL.steps
    assert torch.equal(tr.snap_kq[0], kq0)
    assert torch.allclose(tr.snap_kq[-1], tr.model.kq())
    assert torch.isfinite(tr.snap_kq).all()


def test_device_selection():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"steps": 0}, "steps"),
        ({"batch": 1.5}, "batch"),
        ({"lr": -1.0}, "lr"),
        ({"seed": -2}, "seed"),
        ({"betas": (1.0, 0.9)}, "betas"),
    ],
)
def test_bad_training_parameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TrainConfig(**kwargs)


@pytest.mark.parametrize("device", DEVICES)
def test_compiled_gradient_trains_like_the_eager_one(device):
    eager = Trainer(TASK, ModelConfig(heads=2), SMALL, [0, 1], device=device, compile=False).run()
    compiled = Trainer(TASK, ModelConfig(heads=2), SMALL, [0, 1], device=device, compile=True)
    assert compiled.compiled
    compiled.run()
    assert torch.allclose(eager.losses, compiled.losses, rtol=1e-4)
    assert torch.allclose(eager.theta, compiled.theta, rtol=1e-3, atol=1e-5)
    assert not Trainer(TASK, ModelConfig(heads=2), SMALL, [0], device=device).compiled  # "auto": short runs stay eager
    with pytest.raises(ValueError, match="compile"):
        Trainer(TASK, ModelConfig(heads=2), SMALL, [0], device="cpu", compile="yes")
