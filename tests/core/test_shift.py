import math

import numpy as np
import pytest
import torch

from icl.core import theory
from icl.core.data import TaskConfig, sample_prompts
from icl.core.estimators import DebiasedGD, KernelSum, paired_errors, risk_from_errors
from icl.core.shift import (
    Shift,
    dgd_shift_risk,
    linear_kernel_offset,
    mean_predictor_risk,
    sample_shifted,
    shifted_errors,
)

TASK = TaskConfig(d=5, L=20, sigma2=0.1)
SHORT = TaskConfig(d=5, L=3, sigma2=0.1)  # L < d: room for a query orthogonal to the context
ETA = theory.eta_eff(TASK.d, TASK.L, TASK.sigma2)
SPECTRUM = (4.0, 2.0, 1.0, 0.5, 0.5)  # normalised to mean 1: (2.5, 1.25, 0.625, 0.3125, 0.3125)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def pair(shift, task=TASK, n=4000, seed=0):
    """The shifted prompts and the training prompts from the same normals."""
    return sample_shifted(task, shift, n, gen(seed)), sample_shifted(task, Shift(L=shift.L), n, gen(seed))


# --- sampling -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("L", [None, 7])
def test_the_identity_shift_is_sample_prompts_bit_for_bit(dtype, L):
    g1, g2 = gen(3), gen(3)
    P = sample_shifted(TASK, Shift(L=L), 50, g1, dtype=dtype)
    Q = sample_prompts(TASK, 50, g2, L=L, dtype=dtype)
    for a, b in [(P.Z, Q.Z), (P.x_q, Q.x_q), (P.y_q, Q.y_q), (P.beta, Q.beta)]:
        assert a.dtype == dtype and torch.equal(a, b)
    assert torch.equal(torch.randn(4, generator=g1), torch.randn(4, generator=g2))  # same consumption


def test_the_identity_shift_errors_are_paired_errors():
    preds = {"dgd": DebiasedGD(ETA)}
    a = shifted_errors(preds, TASK, Shift(), 300, seed=4, batch=128)["dgd"]
    b = paired_errors(preds, TASK, 300, seed=4, batch=128)["dgd"]
    assert a.shape == (300,) and torch.equal(a, b)


def test_x_scale_multiplies_every_covariate():
    P, Q = pair(Shift(x_scale=2.0))
    assert torch.equal(P.X, 2 * Q.X) and torch.equal(P.x_q, 2 * Q.x_q) and torch.equal(P.beta, Q.beta)
    noise = Q.y - Q.X @ Q.beta
    assert torch.allclose(P.y, P.X @ P.beta + noise, atol=1e-12)
    assert (P.x_q**2).sum(-1).mean().item() == pytest.approx(4 * TASK.d, rel=0.05)


def test_beta_mean_shifts_the_prior_mean():
    P, Q = pair(Shift(beta_mean=1.5))
    m = 1.5 / math.sqrt(TASK.d)
    assert torch.allclose(P.beta - Q.beta, torch.full_like(P.beta, m), atol=1e-12)
    assert torch.linalg.norm(P.beta.mean(0)).item() == pytest.approx(1.5, abs=0.05)  # ‖m‖ = beta_mean
    assert torch.allclose(P.y, P.X @ P.beta + (Q.y - Q.X @ Q.beta), atol=1e-12)


def test_beta_spectrum_is_normalised_and_scales_the_prior():
    s = Shift(beta_spectrum=SPECTRUM)
    lam = np.array(SPECTRUM) / np.mean(SPECTRUM)
    assert s.beta_spectrum == pytest.approx(tuple(lam)) and np.mean(s.beta_spectrum) == pytest.approx(1.0)
    P, Q = pair(s, n=20_000)
    assert torch.allclose(P.beta[..., 0], Q.beta[..., 0] * torch.tensor(np.sqrt(lam)), atol=1e-12)
    cov = np.cov(P.beta[..., 0].numpy().T) * TASK.d  # ≈ diag(λ)
    assert np.abs(cov - np.diag(lam)).max() < 0.08
    assert (P.beta**2).sum((1, 2)).mean().item() == pytest.approx(1.0, rel=0.03)  # tr E[ββᵀ] = 1


def test_sigma2_sets_the_label_noise():
    P, Q = pair(Shift(sigma2=0.5), n=20_000)
    eps, eps0 = P.y - P.X @ P.beta, Q.y - Q.X @ Q.beta
    assert torch.allclose(eps, eps0 * math.sqrt(0.5 / TASK.sigma2), atol=1e-12)
    assert eps.var().item() == pytest.approx(0.5, rel=0.02)
    assert torch.equal(P.X, Q.X) and torch.equal(P.beta, Q.beta)


def test_orthogonal_query_is_orthogonal_to_the_context_and_keeps_its_norm():
    P, Q = pair(Shift(orthogonal_query=True), task=SHORT)
    assert torch.equal(P.X, Q.X) and torch.equal(P.beta, Q.beta)
    dots = torch.einsum("bld,bd->bl", P.X, P.x_q).abs() / (P.X.norm(dim=-1) * P.x_q.norm(dim=-1)[:, None])
    assert dots.max().item() < 1e-12
    assert torch.allclose(P.x_q.norm(dim=-1), Q.x_q.norm(dim=-1), rtol=1e-12)
    q_noise = Q.y_q - torch.einsum("bd,bdt->bt", Q.x_q, Q.beta)
    assert torch.allclose(P.y_q, torch.einsum("bd,bdt->bt", P.x_q, P.beta) + q_noise, atol=1e-12)
    # debiased GD predicts 0: every x_l − x̄ lies in the context's span
    assert DebiasedGD(0.9)(P).abs().max().item() < 1e-12


def test_L_sets_the_test_length():
    P = sample_shifted(TASK, Shift(L=400), 3, gen())
    assert P.X.shape == (3, 400, TASK.d) and P.y.shape == (3, 400, 1)


def test_labels():
    assert Shift().label == "no shift"
    assert Shift(x_scale=2).label == "x × 2"
    assert Shift(beta_mean=1).label == "β mean 1"
    assert Shift(sigma2=0.5).label == "σ² = 0.5"
    assert Shift(orthogonal_query=True).label == "query ⊥ context"
    assert Shift(L=400).label == "L' = 400"
    assert Shift(beta_spectrum=SPECTRUM).label == "β spectrum [0.31, 2.5]"
    assert Shift(x_scale=0.5, sigma2=0.0).label == "x × 0.5, σ² = 0"


# --- exact risk against Monte Carlo -----------------------------------------------------------------


def test_the_exact_risk_reduces_to_dgd_risk_at_the_identity():
    for d, L, s2 in [(5, 20, 0.1), (3, 40, 0.0), (10, 7, 1.0)]:
        task = TaskConfig(d=d, L=L, sigma2=s2)
        for eta in (0.0, 0.5, 0.9, 1.3):
            assert dgd_shift_risk(eta, task, Shift()) == pytest.approx(float(theory.dgd_risk(eta, d, L, s2)), rel=1e-13)
        assert dgd_shift_risk(0.7, task, Shift(L=60, sigma2=0.3)) == pytest.approx(
            float(theory.dgd_risk(0.7, d, 60, 0.3)), rel=1e-13
        )
    etas = np.linspace(0, 1.5, 4)
    np.testing.assert_allclose(dgd_shift_risk(etas, TASK, Shift()), theory.dgd_risk(etas, 5, 20, 0.1), rtol=1e-13)


CASES = {
    "x × 2": (TASK, Shift(x_scale=2.0)),
    "x × 0.5": (TASK, Shift(x_scale=0.5)),
    "β mean 1": (TASK, Shift(beta_mean=1.0)),
    "β spectrum": (TASK, Shift(beta_spectrum=SPECTRUM)),
    "σ² = 0.5": (TASK, Shift(sigma2=0.5)),
    "L' = 60": (TASK, Shift(L=60)),
    "query ⊥ context": (SHORT, Shift(orthogonal_query=True)),
    "combined": (TASK, Shift(x_scale=1.5, beta_mean=0.7, beta_spectrum=SPECTRUM, sigma2=0.3, L=30)),
    "combined ⟂": (SHORT, Shift(x_scale=0.8, beta_mean=0.7, beta_spectrum=SPECTRUM, sigma2=0.3, orthogonal_query=True)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_exact_risk_agrees_with_monte_carlo(case):
    task, shift = CASES[case]
    e = shifted_errors({"dgd": DebiasedGD(ETA)}, task, shift, 40_000, seed=11)["dgd"]
    mc, exact = risk_from_errors(e), dgd_shift_risk(ETA, task, shift)
    assert abs(mc.mean - exact) < 4 * mc.se, (case, mc, exact, (mc.mean - exact) / mc.se)


@pytest.mark.parametrize("omega", [(0.0, 0.0), (1.3, -0.4), (3.0, 2.0)])
def test_the_kernel_sum_on_an_orthogonal_query_is_the_mean_predictor(omega):
    shift = Shift(orthogonal_query=True, x_scale=1.2, sigma2=0.3)
    mu = (0.5, -0.3)
    c = sum(mu)
    P = sample_shifted(SHORT, shift, 500, gen(2))
    ybar = P.y.mean(1)
    assert torch.allclose(KernelSum(omega, mu)(P), c * ybar, atol=1e-12)  # uniform weights 1/L'
    assert KernelSum(omega, (0.4, -0.4))(P).abs().max().item() < 1e-12  # zero-sum heads predict 0
    preds = {"ks": KernelSum(omega, mu), "zero-sum": KernelSum(omega, (0.4, -0.4))}
    errs = shifted_errors(preds, SHORT, shift, 40_000, seed=12)
    for k, cc in [("ks", c), ("zero-sum", 0.0)]:
        mc, exact = risk_from_errors(errs[k]), mean_predictor_risk(cc, SHORT, shift)
        assert abs(mc.mean - exact) < 4 * mc.se, (k, mc, exact)
    # zero-sum heads do what debiased GD does on an orthogonal query
    assert mean_predictor_risk(0.0, SHORT, shift) == pytest.approx(dgd_shift_risk(0.9, SHORT, shift), rel=1e-14)
    assert linear_kernel_offset(c, SHORT, shift) == pytest.approx(
        mean_predictor_risk(c, SHORT, shift) - mean_predictor_risk(0.0, SHORT, shift), rel=1e-14
    )


@pytest.mark.parametrize("shift", [Shift(), Shift(x_scale=1.5, beta_mean=0.8, beta_spectrum=SPECTRUM, sigma2=0.4)])
def test_the_mean_predictor_risk_holds_without_orthogonal_query(shift):
    errs = shifted_errors({"c ȳ": lambda P: 0.6 * P.y.mean(1)}, TASK, shift, 40_000, seed=13)["c ȳ"]
    mc, exact = risk_from_errors(errs), mean_predictor_risk(0.6, TASK, shift)
    assert abs(mc.mean - exact) < 4 * mc.se, (mc, exact)


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("x_scale", 0.0),
        ("x_scale", -1.0),
        ("x_scale", math.inf),
        ("x_scale", True),
        ("beta_mean", math.nan),
        ("beta_mean", "1"),
        ("beta_spectrum", (1.0, -1.0)),
        ("beta_spectrum", (0.0, 0.0)),
        ("beta_spectrum", ()),
        ("beta_spectrum", 3.0),
        ("sigma2", -0.1),
        ("sigma2", math.nan),
        ("orthogonal_query", 1),
        ("L", 0),
        ("L", 2.0),
    ],
)
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=field):
        Shift(**{field: value})


def test_bad_uses_are_named():
    with pytest.raises(ValueError, match="beta_spectrum"):
        sample_shifted(TASK, Shift(beta_spectrum=(1.0, 2.0)), 4, gen())
    with pytest.raises(ValueError, match="beta_spectrum"):
        dgd_shift_risk(0.5, TASK, Shift(beta_spectrum=(1.0, 2.0)))
    with pytest.raises(ValueError, match="orthogonal_query"):
        sample_shifted(TASK, Shift(orthogonal_query=True), 4, gen())  # L = 20 ≥ d = 5
    with pytest.raises(ValueError, match="orthogonal_query"):
        mean_predictor_risk(0.5, SHORT, Shift(orthogonal_query=True, L=5))
    kms = TaskConfig(covariance="kms")
    with pytest.raises(ValueError, match="task"):
        sample_shifted(kms, Shift(), 4, gen())
    with pytest.raises(ValueError, match="task"):
        dgd_shift_risk(0.5, TaskConfig(supports=((1, 2), (3, 4))), Shift())
    with pytest.raises(ValueError, match="batch"):
        sample_shifted(TASK, Shift(), 0, gen())
    with pytest.raises(ValueError, match="generator"):
        sample_shifted(TASK, Shift(), 4, 0)
    with pytest.raises(ValueError, match="n_prompts"):
        shifted_errors({}, TASK, Shift(), 1)
