import numpy as np
import pytest
import torch

from icl.core import theory
from icl.core.data import TaskConfig, sample_prompts
from icl.core.estimators import DebiasedGD, Ridge, VanillaGD, bayes, icl_risk, icl_risks, two_kernel

TASK = TaskConfig()  # d = 5, L = 40, σ² = 0.1


def prompts(n=2000, seed=0, task=TASK, L=None):
    return sample_prompts(task, n, torch.Generator().manual_seed(seed), L=L, dtype=torch.float64)


def test_ridge_equals_a_direct_linear_solve():
    P = prompts(50)
    lam = 0.7
    got = Ridge(lam)(P)[:, 0].numpy()
    for b in range(50):
        X, y = P.X[b].numpy(), P.y[b, :, 0].numpy()
        # augmented least squares [X; √λ I] β = [y; 0]
        A = np.vstack([X, np.sqrt(lam) * np.eye(5)])
        beta = np.linalg.lstsq(A, np.r_[y, np.zeros(5)], rcond=None)[0]
        assert got[b] == pytest.approx(P.x_q[b].numpy() @ beta, rel=1e-9, abs=1e-12)


def test_two_heads_on_the_manifold_approach_debiased_gd_as_omega_shrinks():
    eta = 0.8
    P = prompts(4000, seed=1)
    target = DebiasedGD(eta)(P)
    omegas = np.array([0.2, 0.1, 0.05, 0.025])
    errs = np.array([(two_kernel(w, eta / (2 * w))(P) - target).abs().mean().item() for w in omegas])
    assert np.all(np.diff(errs) < 0)
    slope = np.polyfit(np.log(omegas), np.log(errs), 1)[0]
    # the ± pair cancels the even terms of the softmax expansion: the error is O(ω²), which
    # is at least the linear rate Theorem 4.2 (i) needs
    assert 1.8 < slope < 2.2, slope


def _mc_eta_star(pred_unit, n=200_000, seed=2):
    P = prompts(n, seed=seed)
    f = pred_unit(P)[:, 0]  # prediction at η = 1
    y = P.y_q[:, 0]
    a, b = (f * f).numpy(), (f * y).numpy()
    eta = b.mean() / a.mean()
    se = (b - eta * a).std() / a.mean() / np.sqrt(n)
    return eta, se


def test_closed_form_gd_risk_matches_monte_carlo():
    for eta in (0.5, theory.gd_optimal_eta(5, 40, 0.1), 1.1):
        r = icl_risk(VanillaGD(eta), TASK, 100_000, seed=3)
        assert abs(r.mean - theory.gd_risk(eta, 5, 40, 0.1)) < 3 * r.se


def test_closed_form_optimal_gd_step_matches_monte_carlo():
    eta, se = _mc_eta_star(VanillaGD(1.0))
    assert abs(eta - theory.gd_optimal_eta(5, 40, 0.1)) < 3 * se
    eta, se = _mc_eta_star(DebiasedGD(1.0))
    assert abs(eta - theory.dgd_optimal_eta(5, 40, 0.1)) < 3 * se


def test_closed_form_debiased_gd_risk_matches_monte_carlo():
    eta = theory.eta_eff(5, 40, 0.1)
    r = icl_risk(DebiasedGD(eta), TASK, 100_000, seed=4)
    assert abs(r.mean - theory.dgd_risk(eta, 5, 40, 0.1)) < 3 * r.se
    assert theory.dgd_risk(eta, 5, 40, 0.1) == pytest.approx(0.2429, abs=5e-4)


def test_bayes_risk_two_ways():
    r = icl_risk(bayes(TASK), TASK, 100_000, seed=5)
    m, se = theory.bayes_risk_mc(5, 40, 0.1, n_prompts=100_000, seed=6)
    assert abs(r.mean - m) < 3 * np.hypot(r.se, se)


def test_bayes_refuses_a_non_gaussian_prior():
    with pytest.raises(ValueError, match="prior"):
        bayes(TaskConfig(prior="rademacher"))


def test_risks_share_prompts_and_reject_bad_input():
    out = icl_risks([VanillaGD(0.8), DebiasedGD(0.8)], TASK, 1000)
    assert set(out) == {"vanilla GD", "debiased GD"}
    with pytest.raises(ValueError, match="n_prompts"):
        icl_risk(VanillaGD(0.8), TASK, 0)
    with pytest.raises(ValueError, match="names"):
        icl_risks([VanillaGD(0.8), VanillaGD(0.9)], TASK, 100)
