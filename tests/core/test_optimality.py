import math

import numpy as np
import pytest
import torch

from icl.core import theory
from icl.core.data import TaskConfig, sample_prompts
from icl.core.estimators import DebiasedGD, VanillaGD, icl_risks, nadaraya_watson, two_kernel
from icl.core.optimality import (
    approx_error_coefficient,
    gd_risk_given_X,
    gd_risk_mc,
    group_sums,
    manifold_distance,
    minimise_mu,
    minimise_theta,
    nw_moments,
    pattern_kind,
    theta_loss,
)

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
    fits = minimise_theta(2, D, L, S2, n_starts=1, seed=3)  # its one start has both signs
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


# --- chapter 06: Theorem 4.2 (i) ---------------------------------------------------------------------


def test_heads_on_the_manifold_compute_the_two_kernel_predictor_whatever_the_split():
    # (3.2) depends on the OV weights only through the group sums: 3 heads at +ω, 2 at −ω, no dummy
    from icl.core.estimators import KernelSum

    w, mu = 0.05, 8.0
    split = np.random.default_rng(0).dirichlet(np.ones(3))
    five = KernelSum([w] * 3 + [-w] * 2, np.r_[mu * split, -mu * np.array([0.3, 0.7])])
    P = sample_prompts(TaskConfig(d=D, L=L), 500, torch.Generator().manual_seed(3), dtype=torch.float64)
    assert (five(P) - two_kernel(w, mu)(P)).abs().max().item() < 1e-10


def test_approx_errors_fall_like_omega_squared_and_match_the_leading_term():
    from icl.core.optimality import approx_errors, leading_term_deviation
    from icl.core.stats import loglog_slope

    task = TaskConfig(d=D, L=L, sigma2=S2)
    om = np.geomspace(1e-3, 0.05, 5)
    e = approx_errors(task, om, 300, seed=1)
    assert e.error.shape == om.shape and e.R.shape == (300,)
    assert loglog_slope(om, e.error)[0] == pytest.approx(2.0, abs=0.02)
    np.testing.assert_allclose(e.error[:2], e.leading[:2], rtol=0.05)  # mean |η ω² R| ≈ mean |error| at small ω
    assert leading_term_deviation(task, 0.01, 300, seed=4) < 1e-2


def test_loglog_slope_of_a_power_law_and_its_standard_error():
    from icl.core.stats import loglog_slope

    x = np.array([1.0, 2.0, 4.0, 8.0])
    s, se = loglog_slope(x, 3 * x**-0.5, rel_se=np.full(4, 0.01))
    assert s == pytest.approx(-0.5, abs=1e-12)
    lx = np.log(x)
    assert se == pytest.approx(0.01 / np.sqrt(((lx - lx.mean()) ** 2).sum()), rel=1e-12)  # OLS slope s.e., equal errors
    assert np.isnan(loglog_slope(x, x)[1])
    with pytest.raises(ValueError, match="two points"):
        loglog_slope([1.0], [1.0])


def test_fixed_scale_minima_pick_the_manifold():
    from icl.chapters.ch06_approximation_optimality import fixed_scale_minima

    t = fixed_scale_minima((3,), (0.1, 0.4), 6, D, L, S2, seed=10)
    assert list(t.columns) == ["H", "omega", "pattern", "best_loss", "manifold_loss", "rel_distance"]
    assert (t.pattern == "±").all() and t.rel_distance.max() < 1e-4
    np.testing.assert_allclose(t.best_loss, t.manifold_loss, atol=1e-10)


# --- chapter 07: vanilla vs debiased GD, the proportional regime, the single head --------------------


@pytest.mark.parametrize("d, Lc, s2", [(5, 40, 0.1), (3, 20, 0.5), (20, 25, 1.0)])
def test_eta_eff_is_exactly_the_optimal_debiased_rate_and_the_gap_formula(d, Lc, s2):
    from icl.chapters.ch07_bayes_and_single_head import dgd_gd_risk_gap

    eta = theory.eta_eff(d, Lc, s2)
    assert theory.dgd_optimal_eta(d, Lc, s2) == pytest.approx(eta, rel=1e-13)
    D_ = d * (1 + s2)
    assert theory.dgd_risk(eta, d, Lc, s2) == pytest.approx(1 + s2 - (Lc - 1) / (Lc + D_), rel=1e-12)
    gap = theory.dgd_risk(eta, d, Lc, s2) - theory.gd_risk(theory.gd_optimal_eta(d, Lc, s2), d, Lc, s2)
    assert dgd_gd_risk_gap(d, Lc, s2) == pytest.approx(float(gap), rel=1e-10)


def test_mean_square_difference_and_risk_gap_of_gd_and_dgd_by_monte_carlo():
    from icl.chapters.ch07_bayes_and_single_head import dgd_gd_risk_gap, gd_dgd_mean_square_difference

    d, Lc, s2 = 4, 10, 0.5
    P = sample_prompts(TaskConfig(d=d, L=Lc, sigma2=s2), 100_000, torch.Generator().manual_seed(9), dtype=torch.float64)
    eta, eta_star = theory.eta_eff(d, Lc, s2), theory.gd_optimal_eta(d, Lc, s2)
    dgd = DebiasedGD(eta)(P)
    for v, exact in (
        ((dgd - VanillaGD(eta)(P)) ** 2, gd_dgd_mean_square_difference(eta, d, Lc, s2)),
        ((dgd - P.y_q) ** 2 - (VanillaGD(eta_star)(P) - P.y_q) ** 2, dgd_gd_risk_gap(d, Lc, s2)),
    ):
        v = v[:, 0]
        assert abs(v.mean().item() - exact) < 4 * v.std().item() / math.sqrt(len(v))


def test_gd_dgd_curves_threshold_table():
    from icl.chapters.ch07_bayes_and_single_head import gd_dgd_curves

    curves, table = gd_dgd_curves(0.1, dims=(2, 5))
    for d, (Lk, rel, msd) in curves.items():
        assert (Lk > d + 2).all() and (rel > 0).all() and (msd > 0).all()
        row = table[table.d == d].iloc[0]
        i = list(Lk).index(row.L_gap_below_1pct)
        assert rel[i] < 0.01 and (i == 0 or rel[i - 1] >= 0.01)


@pytest.mark.parametrize("xi, s2", [(1.0, 0.1), (0.2, 3.0)])
def test_exact_dgd_risk_tends_to_the_proportional_limit_like_one_over_d(xi, s2):
    lim = float(theory.gd_risk_asymptotic(xi, s2))
    rel = []
    for d in (50, 100, 200, 400):
        Lc = int(round(d / xi))
        rel.append(float(theory.dgd_risk(theory.eta_eff(d, Lc, s2), d, Lc, s2)) / lim - 1)
    rel = np.array(rel)
    assert (rel > 0).all() and np.all(np.diff(rel) < 0)
    np.testing.assert_allclose(rel[1:] / rel[:-1], 0.5, atol=0.02)  # O(1/d)


def test_extrapolation_in_one_over_d_recovers_the_intercept():
    from icl.chapters.ch07_bayes_and_single_head import extrapolate_in_1_over_d

    ds = np.array([10, 20, 40])
    a, se = extrapolate_in_1_over_d(ds, 0.37 + 0.6 / ds, np.full(3, 1e-3))
    assert a == pytest.approx(0.37, abs=1e-12)
    # equal weights: the OLS intercept's standard error
    x = 1 / ds
    assert se == pytest.approx(1e-3 * np.sqrt((x**2).sum() / (3 * ((x - x.mean()) ** 2).sum())), rel=1e-10)
    with pytest.raises(ValueError, match="two dimensions"):
        extrapolate_in_1_over_d([10], [0.4], [1e-3])


def test_proportional_grid_and_limits():
    from icl.chapters.ch07_bayes_and_single_head import proportional_grid, proportional_limits

    g = proportional_grid((1.0,), (0.1,), (10, 20), 300, seed=0)
    assert list(g.L) == [10, 20]
    np.testing.assert_allclose(g.factor, g.dgd_exact / g.bayes_mc)
    lim = proportional_limits(g).iloc[0]
    assert lim.bayes_limit == pytest.approx(float(theory.bayes_risk_asymptotic(1.0, 0.1)))
    assert abs(lim.z_bayes) < 4 and abs(lim.z_factor) < 4


def test_nw_moment_samples_average_to_nw_moments_and_approx_moments_give_the_single_head_loss():
    from icl.chapters.ch07_bayes_and_single_head import approx_moments
    from icl.core.optimality import nw_moment_samples

    P = sample_prompts(TaskConfig(d=D, L=L), 500, torch.Generator().manual_seed(2), dtype=torch.float64)
    A, B = nw_moments([0.3, 0.6], P, S2)
    As, Bs = nw_moment_samples([0.3, 0.6], P, S2)
    assert As.shape == (2, 500)
    np.testing.assert_allclose(As.mean(1), A, rtol=1e-12)
    np.testing.assert_allclose(Bs.mean(1), B, rtol=1e-12)
    w = np.array([0.2, 1 / math.sqrt(D)])
    a, b = approx_moments(w, D, L, S2)
    np.testing.assert_allclose(1 + S2 - a**2 / b, theory.single_head_loss(w, D, L, S2), rtol=1e-12)


def test_authors_values_apply_to_their_parameters_only():
    from icl.chapters.ch07_bayes_and_single_head import AUTHORS_BAYES, authors_se
    from icl.core.estimators import Risk

    assert AUTHORS_BAYES.applies_to(TaskConfig())
    assert not AUTHORS_BAYES.applies_to(TaskConfig(d=3)) and not AUTHORS_BAYES.applies_to(TaskConfig(sigma2=0.5))
    assert authors_se(Risk(0.1, 0.002, 12_500), AUTHORS_BAYES) == pytest.approx(0.001)
