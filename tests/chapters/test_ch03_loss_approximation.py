import math
import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from icl.book.style import FULL_WIDTH
from icl.chapters import ch03_loss_approximation as ls_
from icl.chapters.ch03_loss_approximation import (
    approx_loss_two_head,
    softmax_sq_norms,
    true_loss_grid,
    two_kernel_sample,
    valley_floor,
)
from icl.core import theory
from icl.core.data import TaskConfig
from icl.core.estimators import icl_risks, two_kernel

TASK = TaskConfig()  # d = 5, L = 40, σ² = 0.1
D, L, S2 = TASK.d, TASK.L, TASK.sigma2


@pytest.mark.parametrize("omega, mu", [(0.15, 2.9), (0.5, 0.8), (1.0, 0.3)])
def test_true_loss_grid_agrees_with_the_predictor_risk(omega, mu):
    # an independent route: the predictor interface on other prompts, with the noisy target
    grid = true_loss_grid([omega], [mu], TASK, 20_000, seed=1)
    r = icl_risks([two_kernel(omega, mu)], TASK, 20_000, seed=2)["two-kernel (4.9)"]
    assert abs(grid.mean[0, 0] - r.mean) < 4 * np.hypot(grid.se[0, 0], r.se)


def test_true_loss_at_vanishing_omega_is_debiased_gd():
    # on S(ω) with ω → 0 the predictor is debiased GD at η_eff, whose risk is exact
    w = 1e-3
    eta = theory.eta_eff(D, L, S2)
    grid = true_loss_grid([w], [eta / (2 * w)], TASK, 20_000, seed=3)
    assert abs(grid.mean[0, 0] - theory.dgd_risk(eta, D, L, S2)) < 4 * grid.se[0, 0]


def test_true_loss_grid_is_the_quadratic_in_mu():
    omegas, mus = np.array([0.1, 0.4]), np.linspace(0, 4, 9)
    grid = true_loss_grid(omegas, mus, TASK, 3_000, seed=0)
    smp = two_kernel_sample(omegas, TASK, 3_000, seed=0)
    k, f = smp.k, smp.f
    direct = ((mus[None, :, None] * k[:, None, :] - f[None, None, :]) ** 2).mean(-1) + S2
    np.testing.assert_allclose(grid.mean, direct, rtol=1e-10)
    assert grid.mean.shape == grid.se.shape == (2, 9) and np.all(grid.se > 0)
    # the valley: μ*(ω) minimises the quadratic, checked on a fine μ grid
    ms, vals, _ = smp.valley()
    fine = smp.loss_grid(np.linspace(0, 10, 20_001))
    np.testing.assert_allclose(fine.mu[np.argmin(fine.mean, 1)], ms, atol=1e-3)
    np.testing.assert_allclose(fine.mean.min(1), vals, rtol=1e-6)
    assert np.all(vals <= fine.mean.min(1) + 1e-12)
    np.testing.assert_allclose(smp.losses_at(ms).mean(1), vals, rtol=1e-10)
    with pytest.raises(ValueError, match="mu_per_omega"):
        smp.losses_at([1.0])


def test_approx_loss_two_head_matches_theory():
    g = approx_loss_two_head([0.05, 0.3], [1.0, 3.0], D, L, S2)
    for i, w in enumerate([0.05, 0.3]):
        for j, m in enumerate([1.0, 3.0]):
            assert g.mean[i, j] == pytest.approx(theory.approx_loss([w, -w], [m, -m], D, L, S2), rel=1e-12)


def test_softmax_sq_norm_limits():
    norms, _ = softmax_sq_norms(0.0, D, 40, 100, seed=0)
    np.testing.assert_allclose(norms, 1 / 40, rtol=1e-12)  # uniform attention
    norms, r = softmax_sq_norms(0.3, D, 4_000, 400, seed=0)
    ratio = 4_000 * norms / np.exp(0.09 * r)  # L‖p‖² → exp(ω²‖x_q‖²) for fixed x_q
    assert np.median(ratio) == pytest.approx(1.0, abs=0.03)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="n_prompts"):
        true_loss_grid([0.1], [1.0], TASK, 1)
    with pytest.raises(ValueError, match="mus"):
        true_loss_grid([0.1], [np.nan], TASK, 100)
    with pytest.raises(ValueError, match="single-task"):
        two_kernel_sample([0.1], TaskConfig(supports=((1, 2), (3,))), 100)
    with pytest.raises(ValueError, match="omega"):
        softmax_sq_norms(float("inf"), D, L, 10)


# --- chapter 03's analysis -------------------------------------------------------------------


@pytest.mark.parametrize("d, L, s2", [(5, 40, 0.1), (3, 20, 0.5), (10, 80, 1.0)])
def test_optimal_debiased_gd_step_is_eta_eff(d, L, s2):
    # (L−1)/L over (L−1)(L + d(1+σ²))/L² is L/(L + d(1+σ²)) exactly
    assert theory.dgd_optimal_eta(d, L, s2) == pytest.approx(theory.eta_eff(d, L, s2), rel=1e-13)


@pytest.mark.parametrize("d, L, s2", [(5, 40, 0.1), (3, 20, 0.5), (10, 80, 1.0)])
def test_dgd_risk_at_eta_eff_exceeds_the_approx_floor_by_eta_eff_over_L(d, L, s2):
    eta = theory.eta_eff(d, L, s2)
    gap = theory.dgd_risk(eta, d, L, s2) - theory.approx_floor(d, L, s2)
    assert gap == pytest.approx(eta / L, rel=1e-11)


@pytest.mark.parametrize("omega, d, L", [(0.3, 5, 640), (0.3 * math.sqrt(5 / 80), 80, 400)])
def test_softmax_norm_median_follows_exp_d_omega2_over_L(omega, d, L):
    # the law of large numbers behind Fig. 20: L‖p‖² → exp(ω²‖x_q‖²), whose median is
    # exp(ω² · median χ²_d); the paper's e^{dω²} replaces ‖x_q‖² by d
    norms, _ = softmax_sq_norms(omega, d, L, 500, seed=0)
    ratio = np.median(norms / (math.exp(d * omega**2) / L))
    assert ratio == pytest.approx(math.exp(omega**2 * (chi2.median(d) - d)), rel=0.03)
    assert abs(ratio - 1) < 0.10  # the former claim's criterion


def test_mu_star_se_matches_the_spread_over_independent_samples():
    omegas = [0.05, 0.3]
    draws = [two_kernel_sample(omegas, TASK, 400, seed=s) for s in range(25)]
    spread = np.std([smp.mu_star() for smp in draws], axis=0, ddof=1)
    se = np.mean([smp.mu_star_se() for smp in draws], axis=0)
    np.testing.assert_allclose(se, spread, rtol=0.35)


def _small_landscape(task=TASK, n=2_000, seed=0):
    return ls_.landscape(task, np.linspace(0.02, 0.8, 7), np.linspace(0, 6, 5), n, seed=seed)


def test_valley_profile_is_read_off_the_shared_prompts():
    ls = _small_landscape()
    v = ls_.valley_profile(ls)
    per_prompt = ls.sample.losses_at(v.mu)
    np.testing.assert_allclose(v.step, np.diff(per_prompt, axis=0).mean(1), rtol=1e-12)
    assert v.rise == pytest.approx((per_prompt[-1] - per_prompt[0]).mean(), rel=1e-12)
    np.testing.assert_allclose(v.mu_approx, theory.manifold_mu(ls.omega, D, L, S2))
    inside = ls.omega <= 0.3
    assert v.position_gap(0.3) == pytest.approx(np.max(np.abs(v.mu[inside] / v.mu_approx[inside] - 1)))
    assert v.drops(np.inf) == 0 and v.drops(-np.inf) == len(v.step)
    assert v.limit_ratio[0] == pytest.approx(v.mu[0] / v.mu_approx[0])
    np.testing.assert_allclose(ls.approx.mean, approx_loss_two_head(ls.omega, ls.mu, D, L, S2).mean)
    with pytest.raises(ValueError, match="omega"):
        v.position_gap(0.0)


def test_limit_gap_compares_with_the_exact_limit():
    ls = _small_landscape(n=20_000, seed=5)
    g = ls_.limit_gap(ls)
    assert g.approx == pytest.approx(float(theory.manifold_loss(g.omega, D, L, S2)), rel=1e-12)  # L̃ on S(ω)
    assert g.exact == pytest.approx(theory.eta_eff(D, L, S2) / L, rel=1e-11)
    assert abs(g.gap - g.exact) < 4 * g.se


def test_approx_error_table_uses_one_sample_per_length():
    tab = ls_.approx_error_table(TASK, [10, 40], [0.1, 0.3], 500, seed=3)
    assert list(tab.columns) == list(ls_.ERROR_COLUMNS) and len(tab) == 4
    row = tab[(tab["L"] == 40) & (tab["omega"] == 0.3)].iloc[0]
    smp = two_kernel_sample([0.1, 0.3], TASK.with_length(40), 500, seed=43)
    assert row["true"] == pytest.approx(smp.loss_grid([row["mu_star"]]).mean[1, 0], rel=1e-12)
    np.testing.assert_allclose(tab["error"], tab["true"] - tab["approx"])
    assert row["limit"] == pytest.approx(theory.eta_eff(D, 40, S2) / 40)


def test_error_trend_on_a_known_table():
    lengths = np.array([10, 20, 40, 80])
    tab = pd.DataFrame({"L": lengths, "omega": 0.1, "error": 1 / lengths, "se": 0.01, "limit": 1 / lengths + 0.02})
    tr = ls_.error_trend(tab, 0.1)
    assert tr.slope == pytest.approx(-1.0) and tr.decreasing and tr.max_z == pytest.approx(2.0)
    tab.loc[3, "error"] = 0.5
    assert not ls_.error_trend(tab, 0.1).decreasing
    with pytest.raises(ValueError, match="omega"):
        ls_.error_trend(tab, 0.2)


def test_fig20_regimes_and_sweep():
    reg = ls_.fig20_regimes(5, 0.3, 0.2, (10, 40), (25, 50))
    assert [p[1] for p in reg["proportional"]] == [5, 10]
    np.testing.assert_allclose([d_ * w_**2 for _, d_, w_ in reg["proportional_scaled"]], 5 * 0.09)
    assert set(ls_.fig20_titles(5, 0.3, 0.2)) == set(reg)
    sw = ls_.softmax_norm_sweep(reg, 100, seed=2)
    assert list(sw.table.columns) == list(ls_.NORM_COLUMNS) and len(sw.table) == 6
    again, _ = softmax_sq_norms(0.3, 10, 50, 100, seed=3)  # the second point of its regime: seed + 1
    np.testing.assert_array_equal(sw.norms["proportional"][1], again)
    # the scaled regime reuses the proportional regime's prompts (same L, d, seed), each point as if alone
    scaled, _ = softmax_sq_norms(reg["proportional_scaled"][1][2], 10, 50, 100, seed=3)
    np.testing.assert_array_equal(sw.norms["proportional_scaled"][1], scaled)
    med = sw.table[sw.table["regime"] == "proportional"]["median"].to_numpy()
    assert sw.growth("proportional") == pytest.approx(med[-1] / med[0])


def _fake_run(H=4, S=6, seed=0):
    rng = np.random.default_rng(seed)
    hist = SimpleNamespace(omega=rng.normal(0, 0.1, (S, H)), mu=rng.normal(0, 0.1, (S, H)))
    return SimpleNamespace(history=lambda: hist, snapshot_steps=np.arange(S) * 10)


def test_true_vs_approx_dynamics_starts_gd_from_the_models_step_zero():
    run = _fake_run()
    tva = ls_.true_vs_approx_dynamics(run, D, L, S2, lr=0.05, steps=200, n_records=20)
    np.testing.assert_array_equal(tva.traj.omega[0, 0], run.history().omega[0])
    w, m = tva.end["approx"]
    assert tva.rates()["approx"] == pytest.approx(float(w @ m))
    assert tva.end_table().shape == (4, 4)
    assert tva.same_signs == bool(
        np.all(np.sign(run.history().omega[-1]) == np.sign(w)) and np.all(np.sign(run.history().mu[-1]) == np.sign(m))
    )
    peak, end = tva.peak_end_omega()["full"]
    assert peak >= end == pytest.approx(np.abs(run.history().omega[-1]).max())


def _small_study(n_landscape=2_000, omegas=(0.1,)):
    """A smoke chapter's Study with small parts set in place of the budget's (a cached property is
    an attribute once set): the valley and the gap are read off the small landscape."""
    from icl.book.chapter import start

    ch = start("03_loss_approximation", "smoke", "cpu")
    st = ls_.Study(ch)
    st.landscape = ls_.landscape(ch.task, np.linspace(0.02, 0.8, 5), np.linspace(0, 6, 5), n_landscape, seed=0)
    st.floor = ls_.valley_floor(ch.task, (0.01, 0.05, 0.1), 200, seed=1)
    st.errors = ls_.approx_error_table(ch.task, [10, 20], list(omegas), 200)
    st.trend = ls_.error_trend(st.errors, 0.1)
    st.regimes = ls_.fig20_regimes(5, 0.3, 0.2, (10, 40), (25, 50))
    st.titles = ls_.fig20_titles(5, 0.3, 0.2)
    st.sweep = ls_.softmax_norm_sweep(st.regimes, 50)
    st.tva = ls_.true_vs_approx_dynamics(_fake_run(), D, L, S2, lr=0.05, steps=50, n_records=10)
    return st


def test_figures_draw():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    st = _small_study(n_landscape=300, omegas=(0.1, 0.3))
    for fig, n_axes in (
        (ls_.plot_landscapes(st), 6),  # R, L̃, (R − L̃)/R, the legend's place, two colour bars
        (ls_.plot_valley(st), 4),  # slices, valley floors, their difference, the legends' place
        (ls_.plot_error_vs_length(st), 2),  # the error and the error over η_eff/L
        (ls_.plot_softmax_norms(st), 3),
        (ls_.plot_true_vs_approx(st), 4),
    ):
        assert len(fig.axes) == n_axes
        assert fig.get_figwidth() <= FULL_WIDTH  # the book's width budget
        plt.close(fig)


def test_numbers_give_every_key_the_prose_glues_a_value_and_a_pattern():
    prose = (Path(__file__).resolve().parents[2] / "notebooks" / "03_loss_approximation.py").read_text()
    nums = ls_.numbers(_small_study())
    assert set(nums) == set(re.findall(r"\{glue:text\}`([^`]*)`", prose))
    for value, fmt in nums.values():
        fmt.format(value)


def _smoke_claims(monkeypatch=None):
    st = _small_study()
    ls_.claims(st.ch, st)
    return st.ch.claims


def test_smoke_claims_pass_and_catch_a_wrong_approximate_loss(monkeypatch):
    claims = _smoke_claims()
    judged = {c.id: c.status for c in claims.claims if c.evaluated}
    assert judged == {"valley_position_limit": "pass", "river_valley_no_drop": "pass", "limit_gap": "pass"}
    assert all(c.target_origin for c in claims.claims)
    # a wrong c (here doubled) moves μ*(ω) of (4.6): the valleys no longer meet as ω → 0
    monkeypatch.setattr(theory, "c", lambda L, sigma2: 2 * (1 + sigma2) / L)
    assert _smoke_claims()["valley_position_limit"].status == "fail"
    monkeypatch.undo()
    # a wrong L̃ (4.1) (here the c E term doubled) breaks the ω → 0 gap
    good = theory.approx_loss_and_grad
    monkeypatch.setattr(theory, "approx_loss_and_grad", lambda w, m, d, L, s2: good(w, m, d, L / 2, s2))
    assert _smoke_claims()["limit_gap"].status == "fail"


def test_valley_floor_pairs_every_scale_with_the_smallest():
    fl = valley_floor(TASK, [0.005, 0.1, 0.3], 20_000, seed=4)
    assert fl.delta[0] == 0 and fl.delta_se[0] == 0 and fl.n_prompts == 20_000
    grid = two_kernel_sample([0.005, 0.1, 0.3], TASK, 20_000, seed=4)
    np.testing.assert_allclose(fl.mu, grid.mu_star())  # argmin_μ R on the same prompts
    assert fl.z[2] > 5 and fl.z[0] == 0 and fl.most_significant != 2  # the walls rise well before ω = 0.3
    assert list(fl.table().columns)[:2] == ["ω", "μ_R(ω)"]
    with pytest.raises(ValueError, match="omegas"):
        valley_floor(TASK, [0.1, 0.05], 1_000)
