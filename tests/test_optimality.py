import math

import numpy as np
import pytest
import torch

from icl import theory
from icl.data import TaskConfig, sample_prompts
from icl.estimators import DebiasedGD, VanillaGD, icl_risks, nadaraya_watson, two_kernel
from icl.optimality import (approx_error_coefficient, gd_risk_given_X, gd_risk_mc, group_sums, manifold_distance,
                            minimise_mu, minimise_theta, nw_moments, pattern_kind, theta_loss)

D, L, S2 = 5, 40, 0.1


def test_theta_loss_matches_approx_loss_and_its_gradient():
    rng = np.random.default_rng(0)
    s, mu, w = np.array([1, -1, 0, 1]), rng.standard_normal(4), 0.3
    val, g_w, g_mu = theta_loss(w, mu, s, D, L, S2)
    assert val == pytest.approx(theory.approx_loss(s * w, mu, D, L, S2), rel=1e-12)
    gw_full, gmu_full = theory.approx_loss_grad(s * w, mu, D, L, S2)
    np.testing.assert_allclose(g_mu, gmu_full, rtol=1e-12)
    assert g_w == pytest.approx(s @ gw_full, rel=1e-12)
    h = 1e-6  # central difference in the scale ω
    fd = (theta_loss(w + h, mu, s, D, L, S2)[0] - theta_loss(w - h, mu, s, D, L, S2)[0]) / (2 * h)
    assert g_w == pytest.approx(fd, rel=1e-6)


def test_bad_signs_raise():
    with pytest.raises(ValueError, match="signs"):
        theta_loss(0.1, [1.0, 2.0], [1, 2], D, L, S2)
    with pytest.raises(ValueError, match="n_starts"):
        minimise_theta(2, D, L, S2, 0)
    with pytest.raises(ValueError, match="omega"):
        minimise_mu(0.0, [1, -1], D, L, S2)


def test_manifold_points_have_zero_distance_and_kinds():
    w = 0.2
    ms = theory.manifold_mu(w, D, L, S2)
    s = np.array([1, 1, -1, 0])
    mu = np.array([0.3 * ms, 0.7 * ms, -ms, 0.0])
    assert manifold_distance(w, s, mu, D, L, S2) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(group_sums(s, mu), [ms, -ms, 0.0], atol=1e-12)
    assert pattern_kind([1, 0]) == "one sign + dummy" and pattern_kind([1, -1, 0]) == "±"
    assert pattern_kind([-1, -1]) == "one sign" and pattern_kind([0, 0]) == "all dummy"


@pytest.mark.parametrize("signs", [[1, -1], [1, 0, -1], [1, 1, -1, 0]])
def test_fixed_scale_minimiser_lies_on_the_manifold(signs):
    # App. D.2: for fixed ω the minimiser over μ of a ± pattern has group sums (μ*, −μ*, 0)
    for w in (0.1, 0.4):
        mu, val = minimise_mu(w, signs, D, L, S2, seed=1)
        assert manifold_distance(w, signs, mu, D, L, S2) < 1e-6
        assert val == pytest.approx(theory.manifold_loss(w, D, L, S2), abs=1e-10)


def test_joint_minimisation_reaches_the_floor_at_small_omega():
    fits = minimise_theta(2, D, L, S2, n_starts=6, seed=3)
    pm = [f for f in fits if f.kind == "±"]
    assert pm, "no ± start drawn"
    for f in pm:
        assert f.loss - theory.approx_floor(D, L, S2) < 1e-6
        assert f.omega < 0.02
        assert f.eta == pytest.approx(theory.eta_eff(D, L, S2), rel=1e-4)
        assert f.path_loss[-1] <= f.path_loss[0]


def test_leading_error_term_of_the_two_kernel_model():
    task = TaskConfig(d=D, L=L)
    P = sample_prompts(task, 2000, torch.Generator().manual_seed(0), dtype=torch.float64)
    eta, w = 0.8, 0.01
    diff = (two_kernel(w, eta / (2 * w))(P) - DebiasedGD(eta)(P))[:, 0].numpy()
    R = approx_error_coefficient(P.X, P.y[..., 0], P.x_q)
    ratio = diff / (eta * w**2 * R)
    assert np.median(np.abs(ratio - 1)) < 1e-3


@pytest.mark.parametrize("debiased", [True, False])
def test_conditional_gd_risk_against_closed_form_and_plain_monte_carlo(debiased):
    d, Lc, s2, eta = 6, 12, 0.5, 0.7
    m, se = gd_risk_mc(d, Lc, s2, eta, 20_000, seed=0, debiased=debiased)
    exact = (theory.dgd_risk if debiased else theory.gd_risk)(eta, d, Lc, s2)
    assert abs(m - exact) < 4 * se + 1e-12
    # the same quantity by squared errors of the predictor (no conditioning)
    task = TaskConfig(d=d, L=Lc, sigma2=s2)
    p = (DebiasedGD if debiased else VanillaGD)(eta)
    r = icl_risks([p], task, 40_000, seed=1)[p.name]
    assert abs(r.mean - exact) < 4 * r.se


def test_nw_moments_against_plain_monte_carlo():
    # conditional expectations over β and ε vs squared errors of the NW predictor with sampled β, ε
    task = TaskConfig(d=D, L=L)
    P = sample_prompts(task, 20_000, torch.Generator().manual_seed(2), dtype=torch.float64)
    w, mu = 1 / math.sqrt(D), 1.7
    A, B = nw_moments([w, 0.05], P, S2)
    a = nadaraya_watson(w, 1.0)(P)[:, 0]
    yq = P.y_q[:, 0]
    for est, sample in ((A[0], a * yq), (B[0], a * a)):
        assert abs(est - float(sample.mean())) < 4 * float(sample.std()) / math.sqrt(len(sample))
    err = (mu * a - yq) ** 2
    assert abs(1 + S2 - 2 * mu * A[0] + mu**2 * B[0] - float(err.mean())) < 4 * float(err.std()) / math.sqrt(len(err))
    # small ω: NW_ω ≈ ȳ + ω · debiased GD, so A ≈ ω (L − 1)/L (one sample lost to centring)
    assert A[1] == pytest.approx(0.05 * (L - 1) / L, rel=0.01)


def test_gd_risk_given_x_shape_check():
    with pytest.raises(ValueError, match="X"):
        gd_risk_given_X(np.zeros((3, 4)), 0.5, 0.1)
