"""Chapter 08's package code: the hand-written gradient of every normalisation, the activations
f, the general-f approximate loss, linear attention read as GD, the (5.2) construction and the
length-generalisation curves."""

import math

import numpy as np
import pytest
import torch

from icl.chapters.ch08_linear_and_activations import activations as acts
from icl.chapters.ch08_linear_and_activations import analysis as A
from icl.chapters.ch08_linear_and_activations import linear as lin
from icl.core import theory
from icl.core.circuits import structured_circuits
from icl.core.data import TaskConfig, sample_prompts
from icl.core.engine import (
    TrainConfig,
    Trainer,
    attention_loss_and_grad,
    autograd_loss_and_grad,
    normaliser,
    softmax_loss_and_grad,
)
from icl.core.estimators import VanillaGD, two_kernel
from icl.core.models import ACTIVATIONS, NORMALISATIONS, Activation, AttentionModel, ModelConfig

TASK = TaskConfig()
SMALL = TrainConfig(steps=60, batch=32, n_snapshots=5)


def _old_softmax_loss_and_grad(factors, Z, x_q, y_q, d, scale):
    """The engine's softmax gradient as it was before the normalisations were generalised (verbatim)."""
    Q, K, V, O = factors.unbind(1)
    M, B, L, D = Z.shape
    H, T = Q.shape[1], D - d
    W = scale * K.transpose(-1, -2) @ Q
    U = O[..., d:, :] @ V
    Wx = W[..., :d].reshape(M, H * D, d)
    U_flat = U.transpose(-1, -2).reshape(M, H * D, T)
    Zf = Z.reshape(M * B, L, D)
    q_tilde = torch.bmm(x_q, Wx.transpose(1, 2)).view(M * B, H, D)
    logits = torch.bmm(q_tilde, Zf.transpose(1, 2))
    p = torch.softmax(logits, dim=-1)
    a = torch.bmm(p, Zf).view(M, B, H * D)
    r = torch.bmm(a, U_flat) - y_q
    loss = (r * r).mean(dim=(1, 2))
    g_y = r * (2.0 / (B * T))
    g_U = torch.bmm(a.transpose(1, 2), g_y).view(M, H, D, T).transpose(-1, -2)
    g_a = torch.bmm(g_y, U_flat.transpose(1, 2)).view(M * B, H, D)
    g_p = torch.bmm(g_a, Zf.transpose(1, 2))
    g_logits = torch._softmax_backward_data(g_p, p, -1, p.dtype)
    g_q = torch.bmm(g_logits, Zf).view(M, B, H * D)
    g_Wx = torch.bmm(g_q.transpose(1, 2), x_q).view(M, H, D, d)
    grad = torch.zeros_like(factors)
    grad[:, 0, ..., :d] = scale * (K @ g_Wx)
    grad[:, 1] = scale * (Q[..., :d] @ g_Wx.transpose(-1, -2))
    grad[:, 2] = O[..., d:, :].transpose(-1, -2) @ g_U
    grad[:, 3, ..., d:, :] = g_U @ V.transpose(-1, -2)
    return loss, grad


# --- the engine ----------------------------------------------------------------------------


@pytest.mark.parametrize("normalisation", NORMALISATIONS)
@pytest.mark.parametrize("supports", [None, ((1, 2, 3), (2, 3, 4, 5))])
def test_hand_written_gradient_of_every_normalisation_equals_autograd(normalisation, supports):
    task = TaskConfig(supports=supports)
    tr = Trainer(task, ModelConfig(heads=3, normalisation=normalisation), SMALL, [1, 2], device="cpu")
    tr.model.double()
    with torch.no_grad():
        tr.model.factors.mul_(3.0)  # larger logits: relu's kink and the f's curvature are reached
    Z, xq, yq = (t.double() for t in tr.sample())
    l1, g1 = attention_loss_and_grad(tr.model.factors.data, Z, xq, yq, task.d, tr.model.scale, tr._norm)
    l2, g2 = autograd_loss_and_grad(tr.model, Z, xq, yq)
    assert torch.allclose(l1, l2, rtol=1e-12)
    assert torch.allclose(g1, g2, rtol=1e-9, atol=1e-13)


def test_softmax_gradient_is_bit_identical_to_the_old_one():
    tr = Trainer(TASK, ModelConfig(heads=2), SMALL, [3, 4], device="cpu")
    Z, xq, yq = tr.sample()
    new = softmax_loss_and_grad(tr.theta, Z, xq, yq, TASK.d, tr.model.scale)
    old = _old_softmax_loss_and_grad(tr.theta, Z, xq, yq, TASK.d, tr.model.scale)
    assert torch.equal(new[0], old[0]) and torch.equal(new[1], old[1])


@pytest.mark.parametrize("normalisation", ["linear", "square_0.8", "sigmoid"])
def test_fast_path_trains_like_autograd(normalisation):
    cfg = ModelConfig(heads=2, normalisation=normalisation)
    fast = Trainer(TASK, cfg, SMALL, [0], device="cpu").run()
    slow = Trainer(TASK, cfg, SMALL, [0], device="cpu", fast=False).run()
    assert torch.allclose(fast.losses, slow.losses, rtol=1e-4)


def test_linear_normaliser_needs_its_n():
    with pytest.raises(ValueError, match="fixed normaliser"):
        normaliser("linear")


# --- the activations f -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "act, a",
    [
        (ACTIVATIONS["relu"], 1.0),
        (ACTIVATIONS["relu_0.8"], 0.8),
        (ACTIVATIONS["square"], 2.0),
        (ACTIVATIONS["square_0.8"], 1.6),
        (ACTIVATIONS["sigmoid"], 0.5),
        (Activation("exp"), 1.0),
    ],
)
def test_first_order_constant_and_derivative(act, a):
    assert act.a == pytest.approx(a, rel=1e-12)
    s = torch.linspace(-3, 3, 41, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(act.f(s).sum(), s)
    assert torch.allclose(act.df(s.detach()), g)


def test_existing_activations_keep_their_formulas():
    s = torch.linspace(-3, 3, 13)
    assert torch.equal(ACTIVATIONS["relu"].f(s), torch.relu(1.0 + s))
    assert torch.equal(ACTIVATIONS["square"].f(s), (1.0 + s) ** 2)
    assert torch.equal(ACTIVATIONS["sigmoid"].f(s), torch.sigmoid(s))


# --- the general-f approximate loss ------------------------------------------------------------


def test_quadrature_moments_match_closed_forms():
    d, w, b = 5, 0.2, 0.8
    m = acts.f_moments(Activation("square", b), w, d)
    assert m["f"] == pytest.approx(1 + b**2 * w**2 * d, rel=1e-12)
    assert m["df"] == pytest.approx(2 * b, rel=1e-12)
    assert m["ff"] == pytest.approx(1 + 6 * b**2 * w**2 * d + 3 * b**4 * w**4 * d**2, rel=1e-12)
    e = acts.f_moments(Activation("exp"), w, d)
    assert e["f"] == pytest.approx(math.exp(w**2 * d / 2), rel=1e-12)
    assert e["fmf"] == pytest.approx(1.0, rel=1e-12)


def test_exp_reduces_to_the_papers_two_head_manifold():
    d, L, s2 = 5, 40, 0.1
    for w in (0.05, 0.15, 0.4):
        exp = Activation("exp")
        assert acts.variance_term(exp, w, d, L, s2) == pytest.approx(
            4 * theory.c(L, s2) * math.sinh(d * w**2), rel=1e-10
        )
        assert acts.manifold_mu_f(exp, w, d, L, s2) == pytest.approx(float(theory.manifold_mu(w, d, L, s2)), rel=1e-10)
        assert acts.rate_first_order_target(exp, w, d, L, s2) == pytest.approx(
            acts.rate_true(exp, w, d, L, s2), rel=1e-12
        )


@pytest.mark.parametrize("name", list(ACTIVATIONS) + ["softmax"])
def test_every_f_implements_eta_eff_as_omega_goes_to_zero(name):
    d, L, s2 = 5, 40, 0.1
    act = acts.activation_of(name)
    assert acts.rate_true(act, 1e-3, d, L, s2) == pytest.approx(theory.eta_eff(d, L, s2), rel=1e-4)
    assert acts.rate_first_order_target(act, 1e-3, d, L, s2) == pytest.approx(theory.eta_eff(d, L, s2), rel=1e-4)


def test_square_first_order_rate_exceeds_the_implemented_one_by_its_slope_factor():
    # (1 + bs)²: E f′/E f = 2b/(1 + b²ω²d), so 2aωμ* = (μ*G)(1 + b²ω²d), and V/G² = cd exactly
    d, L, s2, w, b = 5, 40, 0.1, 0.15, 1.0
    act = Activation("square", b)
    assert acts.rate_true(act, w, d, L, s2) == pytest.approx(theory.eta_eff(d, L, s2), rel=1e-10)
    assert acts.rate_first_order_target(act, w, d, L, s2) == pytest.approx(
        theory.eta_eff(d, L, s2) * (1 + b**2 * w**2 * d), rel=1e-10
    )


def test_monte_carlo_best_mu_agrees_with_the_softmax_kernel_sum():
    task, w = TaskConfig(), 0.15
    mu, se = acts.mu_star_mc(Activation("exp"), w, task, 4000, seed=3)
    P = sample_prompts(task, 4000, torch.Generator().manual_seed(3), dtype=torch.float64)
    h = two_kernel(w, 1.0)(P)[:, 0]
    assert mu == pytest.approx(float((h * P.y_q[:, 0]).mean() / (h * h).mean()), rel=1e-10)
    assert 0 < se < 0.1 * mu


# --- linear attention read as GD, and (5.2) -------------------------------------------------------


def _structured_linear(omega, mu, d, n):
    kq, ov = structured_circuits(omega, mu, d)
    model = AttentionModel.from_circuits(
        torch.as_tensor(kq), torch.as_tensor(ov), d, ModelConfig(heads=len(omega), normalisation="linear", linear_n=n)
    )
    return kq, ov, model


def test_structured_linear_model_is_vanilla_gd_with_rate_growing_like_length():
    d, n = 5, 40
    kq, ov, model = _structured_linear([0.4, -0.3], [1.5, -0.9], d, n)
    eta = float(lin.linear_rate(kq, ov, d, n, n))
    assert eta == pytest.approx(0.4 * 1.5 + 0.3 * 0.9)
    assert lin.linear_gd_residual(kq, ov, d) == pytest.approx(0.0, abs=1e-12)
    for Lp in (n, 3 * n):
        P = sample_prompts(TASK, 64, torch.Generator().manual_seed(Lp), L=Lp, dtype=torch.float64)
        with torch.no_grad():
            y = model(P.Z[None], P.x_q[None])[0]
        assert torch.allclose(y, VanillaGD(eta * Lp / n)(P), rtol=1e-10, atol=1e-12)


def test_linear_best_length_minimises_its_risk_curve():
    d, n, s2, eta = 5, 40, 0.1, 0.8
    grid = np.linspace(5, 200, 19_501)
    best = grid[np.argmin(lin.linear_risk_at(eta, n, grid, d, s2))]
    assert best == pytest.approx(lin.linear_best_length(eta, n, d, s2), abs=0.02)
    eta_star = theory.gd_optimal_eta(d, n, s2)
    assert lin.linear_best_length(eta_star, n, d, s2) == pytest.approx(n + (d + 1 + d * s2) / 2)


def test_softmax_pairs_reproduce_linear_attention_on_centred_tokens_at_order_eps_squared():
    d, H, n = 5, 2, 40
    g = torch.Generator().manual_seed(0)
    kq, ov = (
        torch.randn(H, d + 1, d + 1, generator=g, dtype=torch.float64) * 0.3,
        torch.randn(H, d + 1, d + 1, generator=g, dtype=torch.float64),
    )
    task = TaskConfig(L=n)
    eps = np.array([1e-3, 2e-3, 4e-3, 8e-3])
    err = lin.construction_errors(kq, ov, d, task, n, eps, 300, seed=1)
    slope = np.polyfit(np.log(eps), np.log(err), 1)[0]
    assert abs(slope - 2) < 0.05 and err[0] < 1e-4


def test_on_prompts_as_they_come_the_softmax_pairs_differ_by_the_second_term_of_5_2():
    # (5.2): the pair equals linear attention minus (L/n) Σ_h (u_hᵀ z̄)(z̄ᵀ W_h z_q), up to O(ε²)
    d, H, n = 5, 2, 40
    g = torch.Generator().manual_seed(3)
    kq = torch.randn(H, d + 1, d + 1, generator=g, dtype=torch.float64) * 0.3
    ov = torch.randn(H, d + 1, d + 1, generator=g, dtype=torch.float64)
    task = TaskConfig(L=n)
    P = sample_prompts(task, 200, torch.Generator().manual_seed(4), dtype=torch.float64)
    lin_model = AttentionModel.from_circuits(kq, ov, d, ModelConfig(heads=H, normalisation="linear", linear_n=n))
    zbar = P.Z.mean(1)  # (B, D)
    zq = torch.cat([P.x_q, torch.zeros(len(P), 1, dtype=torch.float64)], 1)  # (B, D)
    second = task.L / n * torch.einsum("hd,bd,be,hef,bf->b", ov[:, d, :], zbar, zbar, kq, zq)
    resid = []
    with torch.no_grad():
        y_lin = lin_model(P.Z[None], P.x_q[None])[0, :, 0]
        for eps in (1e-3, 2e-3, 4e-3):
            kq2, ov2 = lin.softmax_pair_from_linear(kq, ov, eps, n, n)
            y = AttentionModel.from_circuits(kq2, ov2, d, ModelConfig(heads=2 * H))(P.Z[None], P.x_q[None])[0, :, 0]
            resid.append(float((y - (y_lin - second)).abs().max()))
    assert float(second.abs().max()) > 1e-2  # the second term is there on prompts as they come
    assert resid[0] < 1e-4 and resid[2] / resid[0] == pytest.approx(16, rel=0.1)  # O(ε²)
    raw = lin.construction_errors(kq, ov, d, task, n, [1e-3], 200, seed=4, centred=False)[0]
    assert raw == pytest.approx(float((second**2).mean().sqrt() / (y_lin**2).mean().sqrt()), rel=1e-3)


def test_construction_risks_are_the_two_models_risks_on_common_prompts():
    d, n = 5, 40
    kq, ov, _ = _structured_linear([0.3], [2.8], d, n)
    task = TaskConfig(L=n)
    r_lin, r_soft, se = lin.construction_risks(kq, ov, d, task, n, 1e-3, 2000, seed=5)
    P = sample_prompts(task, 2000, torch.Generator().manual_seed(5), dtype=torch.float64)
    eta = float(lin.linear_rate(kq, ov, d, n, n))
    assert r_lin == pytest.approx(float(((VanillaGD(eta)(P) - P.y_q) ** 2).mean()), rel=1e-10)
    assert 0 < se < 0.01 and abs(r_soft - r_lin) < 0.05 * r_lin


# --- length curves ---------------------------------------------------------------------------------


def test_test_lengths_hold_the_low_end_and_the_multiples_of_L():
    ls = lin.test_lengths(40, (0.5, 1, 2, 5, 10))
    assert list(ls) == [5, 20, 40, 80, 200, 400]


def test_prefix_curves_equal_direct_risks_on_prefix_prompts():
    task = TaskConfig(L=20)
    gd = VanillaGD(0.8)
    curves = lin.risk_vs_length({"gd": gd}, task, [5, 10, 20], 300, seed=4, batch=150, dtype=torch.float64)
    g = torch.Generator().manual_seed(4)
    P = [sample_prompts(task, 150, g, L=20, dtype=torch.float64) for _ in range(2)]
    direct = np.concatenate([((gd(lin.prefix(p, 10)) - p.y_q) ** 2).mean(-1).numpy() for p in P])
    assert curves.mean("gd")[1] == pytest.approx(direct.mean(), rel=1e-12)


def test_optimal_gd_uses_the_rate_of_the_prompts_length():
    P = sample_prompts(TASK, 32, torch.Generator().manual_seed(5), L=17, dtype=torch.float64)
    eta = theory.gd_optimal_eta(TASK.d, 17, TASK.sigma2)
    assert torch.allclose(lin.OptimalGD(TASK.sigma2)(P), VanillaGD(eta)(P))


def test_nonincreasing_excess_sees_a_rise():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.1, (2000, 1))
    falling = lin.LengthCurves(
        np.array([5, 10, 20]), {"k": base + np.array([3.0, 2.0, 1.0]) + rng.normal(0, 0.01, (2000, 3))}
    )
    rising = lin.LengthCurves(
        np.array([5, 10, 20]), {"k": base + np.array([3.0, 2.0, 2.1]) + rng.normal(0, 0.01, (2000, 3))}
    )
    assert lin.nonincreasing_excess(falling, "k") < 0 < 10 < lin.nonincreasing_excess(rising, "k")


def test_linear_gamma_includes_the_ov_x_part_times_the_key_y_row():
    # only u_h (OV x-part) and w_h (key-y row) nonzero: ŷ = (1/n) Σ_l y_l x_lᵀ (u wᵀ) x_q exactly
    d, n = 5, 30
    g = torch.Generator().manual_seed(7)
    kq, ov = torch.zeros(2, d + 1, d + 1, dtype=torch.float64), torch.zeros(2, d + 1, d + 1, dtype=torch.float64)
    kq[:, d, :d] = torch.randn(2, d, generator=g, dtype=torch.float64)
    ov[:, d, :d] = torch.randn(2, d, generator=g, dtype=torch.float64)
    model = AttentionModel.from_circuits(kq, ov, d, ModelConfig(heads=2, normalisation="linear", linear_n=n))
    P = sample_prompts(TaskConfig(L=n), 64, g, dtype=torch.float64)
    with torch.no_grad():
        y = model(P.Z[None], P.x_q[None])[0][:, 0]
    G = torch.as_tensor(lin.linear_gamma(kq, ov, d))
    assert torch.allclose(y, torch.einsum("bl,bli,ij,bj->b", P.y[..., 0], P.X, G, P.x_q) / n, rtol=1e-10)


def test_best_scale_of_an_asymmetric_kernel_sum_agrees_with_the_softmax_kernel_sum():
    from icl.core.estimators import KernelSum

    task, omega, mu = TaskConfig(), [0.3, -0.1, 0.05], [1.0, -2.0, 0.5]
    lam, _ = acts.best_scale_mc(Activation("exp"), omega, mu, task, 3000, seed=2)
    P = sample_prompts(task, 3000, torch.Generator().manual_seed(2), dtype=torch.float64)
    h = KernelSum(omega, mu)(P)[:, 0]
    assert lam == pytest.approx(float((h * P.y_q[:, 0]).mean() / (h * h).mean()), rel=1e-10)


def test_kink_fraction_by_monte_carlo():
    s = torch.randn(200_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * math.sqrt(5)
    share = float((1 + 0.8 * 0.3 * s < 0).double().mean())
    assert A.kink_fraction(0.8, 0.3, 5) == pytest.approx(share, abs=3e-3)


def _reading(name, seed, zero_sum, risk, settled):
    return A.ActivationReading(
        (name, 2, seed), 1.0, 0.2, 2.0, 0.9, 0.9, 0.001, 0.9, 0.9, 1.0, zero_sum, risk=risk, settled=settled
    )


def test_same_sign_text_names_the_same_sign_models_and_who_left_that_phase():
    reads = [
        _reading("softmax", 1, 0.9, 0.5, None),
        _reading("relu", 0, 0.01, 0.24, 5_000),
        _reading("relu", 1, 1.0, 0.36, None),
        _reading("sigmoid", 1, 0.002, 0.25, 67_552),
    ]
    assert [r.key for r in A.not_zero_sum(reads, 0.05)] == [("relu", 2, 1)]  # softmax rows are not activation models
    text = A.same_sign_text(reads, 0.05)
    assert text.startswith("1 of the 3 models are not zero-sum, 1 of them with every head's μ_h at one sign")
    assert "relu(1 + s), H = 2, seed 1 (|Σ_h μ_h|/Σ_h |μ_h| = 1.00)" in text
    assert "0.360 to 0.360, against 0.240 to 0.250 for the ± models" in text
    assert "σ(s), H = 2, seed 1 holds the ± pattern from step 67,552" in text and "seed 0 holds" not in text
    assert A.same_sign_text(reads[1:2] + reads[3:], 0.05) == "every one of the 2 models holds the ± pattern"
