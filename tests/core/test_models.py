import numpy as np
import pytest
import torch

from icl.core.circuits import extract, structured_circuits
from icl.core.data import TaskConfig, sample_prompts
from icl.core.estimators import KernelSum, TransformerPredictor
from icl.core.models import AttentionModel, ModelConfig


def full_tokens(P):
    zq = torch.cat([P.x_q, torch.zeros_like(P.y_q)], -1)
    return torch.cat([P.Z, zq[:, None]], 1).transpose(1, 2)  # (B, D, L+1)


@pytest.mark.parametrize("normalisation", ["softmax", "linear", "relu", "square", "sigmoid"])
@pytest.mark.parametrize("supports", [None, ((1, 2, 3), (2, 3, 4, 5))])
def test_fast_forward_equals_full_causal_forward(normalisation, supports):
    task = TaskConfig(supports=supports)
    model = AttentionModel(
        task.d, task.n_tasks, ModelConfig(heads=3, normalisation=normalisation), [0, 1], L_train=task.L
    ).double()
    P = sample_prompts(task, 64, torch.Generator().manual_seed(0), dtype=torch.float64)
    Z2 = torch.stack([P.Z, P.Z])
    xq2 = torch.stack([P.x_q, P.x_q])
    with torch.no_grad():
        fast = model(Z2, xq2)
        full = model.predict_full(torch.stack([full_tokens(P)] * 2))
    rel = ((fast - full).abs().max() / full.abs().max()).item()
    assert rel < 1e-10, rel


def test_full_forward_changes_only_later_positions_causally():
    # perturbing the last context token must not change any earlier column's output
    task = TaskConfig(L=6)
    model = AttentionModel(task.d, 1, ModelConfig(heads=2), [3]).double()
    P = sample_prompts(task, 2, torch.Generator().manual_seed(1), dtype=torch.float64)
    Z = full_tokens(P)[None]
    Z2 = Z.clone()
    Z2[..., 5] += 1.0
    with torch.no_grad():
        a, b = model.forward_full(Z), model.forward_full(Z2)
    assert torch.allclose(a[..., :5], b[..., :5]) and not torch.allclose(a[..., 6], b[..., 6])


def test_structured_weights_reproduce_the_kernel_sum():
    d = 5
    omega, mu = np.array([0.4, -0.4, 0.1, 0.0]), np.array([2.0, -1.5, 0.3, 0.0])
    kq, ov = structured_circuits(omega, mu, d)
    model = AttentionModel.from_circuits(torch.tensor(kq), torch.tensor(ov), d, ModelConfig(heads=4))
    P = sample_prompts(TaskConfig(), 256, torch.Generator().manual_seed(2), dtype=torch.float64)
    diff = (TransformerPredictor(model)(P) - KernelSum(omega, mu)(P)).abs().max().item()
    assert diff < 1e-10
    pat = extract(model.kq().detach(), model.ov().detach(), d)
    np.testing.assert_allclose(pat.omega[0], omega, atol=1e-12)
    np.testing.assert_allclose(pat.mu[0], mu, atol=1e-12)
    assert pat.offdiag_max.max() < 1e-12 and pat.key_y_row.max() < 1e-12


def test_default_init_matches_nn_linear_bound_and_seed():
    a = AttentionModel(5, 1, ModelConfig(heads=2), [7])
    b = AttentionModel(5, 1, ModelConfig(heads=2), [7])
    assert torch.equal(a.factors, b.factors)
    assert a.factors.abs().max() <= 1 / np.sqrt(6)


def test_init_scale_scales_the_default_factors():
    one = AttentionModel(5, 1, ModelConfig(heads=2), [7])
    small = AttentionModel(5, 1, ModelConfig(heads=2, init_scale=0.1), [7])
    assert torch.equal(small.factors, 0.1 * one.factors)  # the same draws, times 0.1
    assert small.factors.abs().max() <= 0.1 / np.sqrt(6)
    torch.testing.assert_close(small.kq(), 0.01 * one.kq(), rtol=1e-5, atol=1e-9)  # circuits by init_scale²
    torch.testing.assert_close(small.ov(), 0.01 * one.ov(), rtol=1e-5, atol=1e-9)  # (float32 rounding)
    assert torch.equal(AttentionModel(5, 1, ModelConfig(heads=2, init_scale=1), [7]).factors, one.factors)


def test_opposite_identity_init():
    m = AttentionModel(5, 1, ModelConfig(heads=2, init="opposite_identity", omega0=0.02, mu0=0.03), [0])
    pat = extract(m.kq().detach(), m.ov().detach(), 5)
    np.testing.assert_allclose(pat.omega[0], [0.02, -0.02], rtol=1e-6)
    np.testing.assert_allclose(pat.mu[0], [0.03, -0.03], rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"heads": 0}, "heads"),
        ({"normalisation": "tanh"}, "normalisation"),
        ({"init": "zeros"}, "init"),
        ({"omega0": -1.0}, "omega0"),
        ({"linear_n": 0}, "linear_n"),
        ({"init_scale": 0.0}, "init_scale"),
        ({"init_scale": -0.1}, "init_scale"),
        ({"init_scale": float("inf")}, "init_scale"),
        ({"init_scale": float("nan")}, "init_scale"),
        ({"init_scale": True}, "init_scale"),
        ({"init": "opposite_identity", "init_scale": 0.1}, "init_scale"),
    ],
)
def test_bad_model_parameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ModelConfig(**kwargs)
