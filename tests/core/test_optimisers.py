"""The Trainer's optimisers against torch.optim, on the same gradients.

Every optimiser, with and without weight decay, equals its torch.optim namesake (single-tensor
implementation, foreach=False, the default on a CPU) EXACTLY (torch.equal) after 20 steps: the
Trainer's update performs torch's tensor operations in torch's order.
"""

import pytest
import torch

from icl.core.data import TaskConfig
from icl.core.engine import TrainConfig, Trainer
from icl.core.models import ModelConfig
from icl.runs.config import RunConfig

TASK = TaskConfig()
STEPS = 20
LR, WD = 1e-2, 0.1


def torch_optimiser(cfg: TrainConfig, p: torch.Tensor) -> torch.optim.Optimizer:
    kw = dict(lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=False)
    if cfg.optimizer == "adam":
        return torch.optim.Adam([p], betas=cfg.betas, eps=cfg.eps, **kw)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW([p], betas=cfg.betas, eps=cfg.eps, **kw)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD([p], momentum=cfg.momentum, dampening=0, nesterov=False, **kw)
    return torch.optim.RMSprop([p], alpha=cfg.alpha, eps=cfg.eps, momentum=0, centered=False, **kw)


@pytest.mark.parametrize("weight_decay", [0.0, WD])
@pytest.mark.parametrize(
    "optimizer, extra",
    [("adam", {}), ("adamw", {}), ("sgd", {}), ("sgd", {"momentum": 0.0}), ("rmsprop", {})],
)
def test_each_optimiser_equals_torch_optim_exactly(optimizer, extra, weight_decay):
    cfg = TrainConfig(
        steps=STEPS, batch=16, lr=LR, optimizer=optimizer, weight_decay=weight_decay, n_snapshots=2, **extra
    )
    tr = Trainer(TASK, ModelConfig(heads=2), cfg, [0, 1], device="cpu")
    theta0 = tr.theta.clone()
    p = tr.theta.clone().requires_grad_(True)  # the flat (M, 4, H, D, D) factor tensor
    opt = torch_optimiser(cfg, p)
    with torch.no_grad():
        for _ in range(STEPS):
            batch = tr.sample()
            _, grad = tr.loss_and_grad(*batch)  # the gradient step_on computes (deterministic)
            tr.step_on(*batch)
            p.grad = grad.clone()
            opt.step()
            assert torch.equal(tr.theta, p), f"{optimizer} (wd={weight_decay}) left torch.optim at step {tr.step}"
    assert not torch.equal(tr.theta, theta0)  # it moved
    state = opt.state[p]
    if optimizer in ("adam", "adamw"):
        assert torch.equal(tr.exp_avg, state["exp_avg"]) and torch.equal(tr.exp_avg_sq, state["exp_avg_sq"])
    elif optimizer == "sgd" and cfg.momentum:
        assert torch.equal(tr.exp_avg, state["momentum_buffer"])
    elif optimizer == "rmsprop":
        assert torch.equal(tr.exp_avg_sq, state["square_avg"])


def test_weight_decay_changes_the_run():
    def final(**kw):
        cfg = TrainConfig(steps=10, batch=8, lr=LR, n_snapshots=2, **kw)
        return Trainer(TASK, ModelConfig(heads=2), cfg, [0], device="cpu").run().theta

    for opt in ("adam", "adamw", "sgd", "rmsprop"):
        assert not torch.equal(final(optimizer=opt), final(optimizer=opt, weight_decay=WD))
    assert torch.equal(final(), final(optimizer="adam", weight_decay=0))  # the defaults are Adam, no decay


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adamw"])
def test_checkpoint_round_trip_mid_run_equals_an_uninterrupted_run(optimizer):
    cfg = TrainConfig(steps=60, batch=32, lr=LR, n_snapshots=5, optimizer=optimizer, weight_decay=WD)
    full = Trainer(TASK, ModelConfig(heads=2), cfg, [9, 10], device="cpu").run()
    part = Trainer(TASK, ModelConfig(heads=2), cfg, [9, 10], device="cpu").run(until=25)
    state = part.state_dict()
    assert set(state) == {"step", "theta", "exp_avg", "exp_avg_sq", "losses", "snap_kq", "snap_ov", "rng", "seeds"}
    resumed = Trainer(TASK, ModelConfig(heads=2), cfg, [9, 10], device="cpu").load_state_dict(state).run()
    assert resumed.step == full.step == cfg.steps
    assert torch.equal(resumed.theta, full.theta)
    assert torch.equal(resumed.losses, full.losses)
    assert torch.equal(resumed.exp_avg, full.exp_avg) and torch.equal(resumed.exp_avg_sq, full.exp_avg_sq)
    assert torch.isfinite(full.losses).all()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"optimizer": "Adam"}, "optimizer"),
        ({"momentum": 1.0}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"momentum": True}, "momentum"),
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": -0.5}, "alpha"),
        ({"weight_decay": -1e-3}, "weight_decay"),
        ({"weight_decay": float("inf")}, "weight_decay"),
        ({"weight_decay": float("nan")}, "weight_decay"),
        ({"weight_decay": "0.1"}, "weight_decay"),
    ],
)
def test_bad_optimiser_parameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TrainConfig(**kwargs)


def test_the_key_of_a_default_config_is_unchanged():
    # the literal keys were computed before the optimiser fields existed
    assert RunConfig().key() == "8b1ceefc415e1dac"
    explicit = TrainConfig(optimizer="adam", momentum=0.9, alpha=0.99, weight_decay=0.0)
    assert RunConfig(train=explicit).key() == "8b1ceefc415e1dac"
    assert RunConfig(train=TrainConfig(weight_decay=0)).key() == "8b1ceefc415e1dac"
    others = [
        TrainConfig(optimizer="sgd"),
        TrainConfig(optimizer="adamw", weight_decay=0.01),
        TrainConfig(optimizer="rmsprop", alpha=0.9),
        TrainConfig(momentum=0.5),
    ]
    keys = {RunConfig(train=t).key() for t in others}
    assert len(keys) == len(others) and "8b1ceefc415e1dac" not in keys
    for t in others:  # a non-default field is in the dict and survives the round trip
        c = RunConfig(train=t)
        assert RunConfig.from_dict(c.to_dict()) == c
