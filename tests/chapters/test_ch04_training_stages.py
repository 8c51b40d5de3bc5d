import numpy as np
import pytest
from scipy.optimize import minimize

from icl.chapters.ch04_training_stages import (
    Criteria,
    HeadCountRuns,
    descend,
    end_points,
    ends_split,
    excess_at_fixed_omega,
    hessian,
    homogeneity_table,
    inner_after_stage1,
    manifold_deviations,
    mu_star_any,
    mu_star_signed,
    recent_deviations,
    settled_deviations,
    sharpness,
    stage_summary,
    trap_point,
    trap_population,
    valley_slide,
    zero_sum_at_stage1_end,
    zero_sum_rates,
)
from icl.core import theory
from icl.core.dynamics import StageTimes, Trajectory

D, L, S2 = 5, 40, 0.1
CRIT = Criteria(0.05, 0.05, 0.05)


def _on_manifold(w, H=2):
    """Heads at ±w carrying ±μ*(w) in total, split equally over H/2 heads of each sign."""
    m = theory.manifold_mu(w, D, L, S2)
    return np.array([w, -w] * (H // 2)), np.array([m, -m] * (H // 2)) / (H // 2)


# --- identities of our closed forms (they were claims of chapter 04; they are algebra) ------------


def test_manifold_limits_as_omega_goes_to_zero():
    # (4.8): η(ω) = 2ωμ*(ω) → 1/(1 + cd) and L̃ on S(ω) → 1 + σ² − 1/(1 + cd), with O(ω²) corrections
    c = (1 + S2) / L
    for w in (1e-3, 1e-4):
        assert theory.manifold_eta(w, D, L, S2) == pytest.approx(1 / (1 + c * D), abs=10 * w**2)
        assert theory.manifold_loss(w, D, L, S2) == pytest.approx(1 + S2 - 1 / (1 + c * D), abs=10 * w**2)
    assert theory.manifold_eta(1e-2, D, L, S2) < theory.eta_eff(D, L, S2)  # approached from below


def test_manifold_point_is_stationary_in_mu_and_has_the_manifold_loss():
    w, m = _on_manifold(0.2)
    _, _, gm = theory.approx_loss_and_grad(w[None], m[None], D, L, S2)
    np.testing.assert_allclose(gm, 0, atol=1e-12)
    assert theory.approx_loss(w, m, D, L, S2) == pytest.approx(theory.manifold_loss(0.2, D, L, S2), rel=1e-12)


# --- the Hessian -------------------------------------------------------------------------------


def test_hessian_matches_second_differences_of_the_loss():
    rng = np.random.default_rng(0)
    w, m = rng.normal(0, 0.3, 3), rng.normal(0, 1, 3)
    Hs = hessian(w, m, D, L, S2)
    x0, h, n = np.r_[w, m], 1e-4, 6
    f = lambda x: theory.approx_loss(x[:3], x[3:], D, L, S2)  # noqa: E731
    E = np.eye(n) * h
    fd = np.array(
        [
            [
                (f(x0 + E[i] + E[j]) - f(x0 + E[i] - E[j]) - f(x0 - E[i] + E[j]) + f(x0 - E[i] - E[j])) / (4 * h * h)
                for j in range(n)
            ]
            for i in range(n)
        ]
    )
    np.testing.assert_allclose(Hs, fd, rtol=1e-4, atol=1e-5)
    assert np.allclose(Hs, Hs.T)
    assert sharpness(w, m, D, L, S2) == pytest.approx(np.linalg.eigvalsh(Hs).max())


def test_trap_point_is_the_single_head_optimum_with_a_flat_split_direction():
    w, m = trap_point(D, L, S2)
    w1, m1, loss1 = theory.single_head_optimum(D, L, S2)
    assert w == pytest.approx([1 / np.sqrt(D)] * 2) and m.sum() == pytest.approx(m1)
    assert theory.approx_loss(w, m, D, L, S2) == pytest.approx(loss1, rel=1e-12)
    _, gw, gm = theory.approx_loss_and_grad(w[None], m[None], D, L, S2)
    np.testing.assert_allclose(np.r_[gw[0], gm[0]], 0, atol=1e-10)  # stationary
    H = hessian(w, m, D, L, S2)
    split = np.array([0, 0, 1, -1]) / np.sqrt(2)  # moving OV weight from one head to the other
    assert split @ H @ split == pytest.approx(0, abs=1e-6)


# --- min over μ at fixed ω -----------------------------------------------------------------------


def test_mu_star_any_is_the_minimum_norm_minimiser():
    for w in ([0.3, -0.3, 0.15, -0.15], [0.2, -0.2, 0.2, -0.2], [0.1, 0.1, 0.1]):
        w = np.asarray(w)
        A = np.outer(w, w) + theory.c(L, S2) * np.exp(D * np.outer(w, w))
        ref = np.linalg.lstsq(A, w, rcond=None)[0]  # the minimum-norm solution of the normal equations
        np.testing.assert_allclose(mu_star_any(w, D, L, S2), ref, rtol=1e-6, atol=1e-8)
    w = np.array([0.3, -0.1, 0.2])
    np.testing.assert_allclose(mu_star_any(w, D, L, S2), theory.mu_star(w, D, L, S2), rtol=1e-10)


def test_mu_star_signed_matches_a_bounded_numerical_minimiser():
    w = np.array([0.2, -0.2, 0.1, -0.1])
    m = mu_star_signed(w, D, L, S2)
    assert np.all(m * w >= -1e-12)
    bounds = [(0, None) if x > 0 else (None, 0) for x in w]
    f = lambda x: theory.approx_loss(w, x, D, L, S2)  # noqa: E731
    ref = minimize(f, np.sign(w), bounds=bounds, method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12}).x
    assert f(m) <= f(ref) + 1e-10
    # where the free optimum already matches signs, the constraint is inactive
    w2 = np.array([0.2, -0.2])
    np.testing.assert_allclose(mu_star_signed(w2, D, L, S2), mu_star_any(w2, D, L, S2), rtol=1e-8)


def test_two_levels_beat_homogeneous_only_without_sign_matching():
    tab = homogeneity_table(D, L, S2, scales=(0.3, 0.1))
    assert np.all(tab["two levels, free μ"] < tab["homogeneous (a, −a, a, −a)"])
    assert np.all(tab["two levels, matched signs"] >= tab["two levels, free μ"])
    for a in (0.3, 0.1):  # the excess is never below the floor
        assert excess_at_fixed_omega([a, -a, a, -a], D, L, S2)[0] >= 0


# --- stages and end points on constructed runs -----------------------------------------------------


def test_ends_split_needs_both_signs_zero_sum_and_the_optimality_condition():
    w, m = _on_manifold(0.1, H=4)
    one_sign = (np.abs(w), np.abs(m))
    not_zero_sum = (w, m * [1, 1, 1.5, 1])
    small = (w, m / 10)
    got = ends_split(
        np.stack([w, one_sign[0], not_zero_sum[0], small[0]]),
        np.stack([m, one_sign[1], not_zero_sum[1], small[1]]),
        D,
        L,
        S2,
        CRIT,
    )
    assert got.tolist() == [True, False, False, False]


def _runs_from(ends_w, ends_m, times):
    """A results dict for one head count from end points (R, H) and StageTimes; two records."""
    w, m = np.asarray(ends_w, float), np.asarray(ends_m, float)
    tr = Trajectory(
        np.array([0, 100]),
        np.stack([w * 0.01, w]),
        np.stack([m * 0.01, m]),
        np.stack([np.ones(len(w)), theory.approx_loss_and_grad(w, m, D, L, S2)[0]]),
        lr=0.05,
    )
    return {w.shape[1]: HeadCountRuns(w.shape[1], tr, times, ends_split(w, m, D, L, S2, CRIT))}


def test_stage_summary_counts_only_runs_that_split():
    w, m = _on_manifold(0.1)
    ends_w, ends_m = np.stack([w, np.abs(w)]), np.stack([m, np.abs(m)])  # run 1 is one-signed
    times = StageTimes(
        stage1_end=np.array([50, 50]),
        sign=np.array([10, 10]),
        zero_sum=np.array([80, -1]),
        homogeneous=np.array([40, -1]),
    )
    s = stage_summary(_runs_from(ends_w, ends_m, times))
    assert (s.n_runs, s.n_split, s.n_stage1) == (2, 1, 2)
    assert s.sign_in_stage1 == 1 and s.zero_sum_in_stage1 == 0
    assert s.sign_in_stage1_all == 1 and s.zero_sum_in_stage1_all == 0  # over both starts
    assert s.homogeneous_after_stage1 == 0 and s.homogeneous_reached == 1 and s.early_homogeneous == ((2, 0),)
    none = stage_summary(_runs_from(np.abs(ends_w), np.abs(ends_m), times))
    assert none.n_split == 0 and none.sign_in_stage1 is None


def test_over_all_starts_a_run_whose_stage1_never_ends_counts_as_not_showing_the_pattern():
    w, m = _on_manifold(0.1)
    ends_w, ends_m = np.stack([w, np.abs(w)]), np.stack([m, np.abs(m)])
    times = StageTimes(
        stage1_end=np.array([50, -1]),
        sign=np.array([10, 10]),
        zero_sum=np.array([40, -1]),
        homogeneous=np.array([60, 5]),
    )
    s = stage_summary(_runs_from(ends_w, ends_m, times))
    assert (s.n_stage1, s.sign_in_stage1_all, s.zero_sum_in_stage1_all) == (1, 0.5, 0.5)
    assert (s.sign_in_stage1, s.zero_sum_in_stage1, s.homogeneous_after_stage1) == (1, 1, 1)


def _records(W, M, steps, split=True, times=None):
    """A results dict for one head count from records W, M: (S, R, H)."""
    W, M = np.asarray(W, float), np.asarray(M, float)
    R = W.shape[1]
    tr = Trajectory(np.asarray(steps), W, M, np.zeros(W.shape[:2]), lr=0.01)
    times = times or StageTimes(*(np.zeros(R, int),) * 4)
    return {W.shape[2]: HeadCountRuns(W.shape[2], tr, times, np.full(R, split))}


def test_inner_after_stage1_reads_the_fall_back_and_the_overshoot_from_the_first_meeting():
    eta = theory.eta_eff(D, L, S2)
    x = np.array([0.2, 0.96, 0.93, 0.99, 1.02, 1.0])  # ⟨ω, μ⟩/η_eff: meets (4.3) at record 1, falls back 0.03
    W = np.stack([np.sqrt(x * eta), -np.sqrt(x * eta)], -1)[:, None] / np.sqrt(2)
    M = W.copy()  # ω_h μ_h = x η_eff / 2 in each head
    tab = inner_after_stage1(_records(W, M, np.arange(6)), D, L, S2, 0.05)
    row = tab.iloc[0]
    assert row["first meets (4.3)"] == 1
    assert row["largest fall back"] == pytest.approx(0.03) and row["largest overshoot"] == pytest.approx(0.02)
    never = inner_after_stage1(_records(W * 0.1, M * 0.1, np.arange(6)), D, L, S2, 0.05)
    assert never.empty


def test_valley_slide_finds_a_rise_of_omega_and_a_fall_of_the_ov_weight():
    w = np.array([0.3, 0.2, 0.1, 0.12, 0.08])
    m = np.array([1.0, 1.5, 2.0, 1.9, 2.5])
    W, M = np.stack([w, -w], -1)[:, None], np.stack([m, -m], -1)[:, None]
    times = StageTimes(*(np.array([1]),) * 4)  # Stage I and homogeneity at step 1
    row = valley_slide(_records(W, M, np.arange(5), times=times)).iloc[0]
    assert row["from step"] == 1
    assert row["largest rise of ω"] == pytest.approx(0.2) and row["largest fall of Σ₊μ_h"] == pytest.approx(0.05)
    clean = valley_slide(_records(W[[0, 1, 2, 4]], M[[0, 1, 2, 4]], np.arange(4), times=times)).iloc[0]
    assert clean["largest rise of ω"] == 0 and clean["largest fall of Σ₊μ_h"] == 0
    assert valley_slide(_records(W, M, np.arange(5), split=False, times=times)).empty


def test_zero_sum_at_stage1_end_is_read_at_the_stage1_record():
    W = np.array([[[0.1, -0.1]], [[0.3, -0.3]]])
    M = np.array([[[1.0, -0.5]], [[2.0, -2.0]]])
    times = StageTimes(stage1_end=np.array([0]), sign=np.array([0]), zero_sum=np.array([1]), homogeneous=np.array([0]))
    np.testing.assert_allclose(zero_sum_at_stage1_end(_records(W, M, [0, 10], times=times)), [0.5 / 1.5])


def test_end_points_on_the_manifold_have_zero_deviation():
    w, m = _on_manifold(0.15, H=4)
    times = StageTimes(*(np.zeros(1, int),) * 4)
    ends = end_points(_runs_from(w[None], m[None], times), D, L, S2)
    assert ends["ω (mean |ω_h|)"].iloc[0] == pytest.approx(0.15)
    dev = manifold_deviations(ends, D, L, S2)
    assert dev["ov"] == pytest.approx(0, abs=1e-12) and dev["loss"] == pytest.approx(0, abs=1e-12)
    assert dev["inner"] == pytest.approx(1 - theory.manifold_eta(0.15, D, L, S2) / theory.eta_eff(D, L, S2), rel=1e-9)


def test_an_end_point_off_the_manifold_settles_when_continued_with_a_small_step():
    """A point knocked off S(ω) (as an oscillation at the edge of stability leaves it) returns to
    the valley under GD with a step far below the edge: the deviations shrink more than twentyfold."""
    w, m = _on_manifold(0.15, H=2)
    m = m * np.array([1.02, 0.99])  # 2 % and 1 % off μ*(ω), not zero-sum
    times = StageTimes(*(np.zeros(1, int),) * 4)
    runs = _runs_from(w[None], m[None], times)
    before = manifold_deviations(end_points(runs, D, L, S2), D, L, S2)
    after = settled_deviations(runs, D, L, S2, lr=0.01, steps=5_000)
    assert before["ov"] > 5e-3 and after["ov"] < before["ov"] / 20
    assert after["loss"] < before["loss"] / 100


def test_recent_deviations_range_over_the_last_records():
    """An end point read at each of the last records: a run on S(ω) at the last record and 2 % off it
    one record earlier shows the range (0, 2 %) over two records and 0 over one."""
    w, m = _on_manifold(0.15, H=2)
    W, M = np.stack([w, w])[:, None], np.stack([m * [1.02, 1.02], m])[:, None]  # (S=2, R=1, H=2)
    tr = Trajectory(np.array([900, 1000]), W, M, _loss_rows(W, M), lr=0.05)
    runs = {2: HeadCountRuns(2, tr, StageTimes(*(np.zeros(1, int),) * 4), np.array([True]))}
    two, one = recent_deviations(runs, D, L, S2, last=2), recent_deviations(runs, D, L, S2, last=1)
    assert two["steps"] == (900, 1000) and one["steps"] == (1000, 1000)
    assert two["ov"][0] == pytest.approx(0, abs=1e-12) and two["ov"][1] == pytest.approx(0.02, rel=1e-9)
    assert one["ov"] == pytest.approx((0, 0), abs=1e-12) and two["loss"][1] > 0


def _loss_rows(W, M):
    """L̃ at every record and run of (S, R, H) arrays."""
    return np.array([theory.approx_loss_and_grad(w, m, D, L, S2)[0] for w, m in zip(W, M)])


def test_zero_sum_rate_recovers_an_exponential_decay():
    k, t = 0.3, np.linspace(0, 20, 41)
    steps = (t / 0.05).astype(int)
    s = np.exp(-k * t)  # Σμ_h of a two-head run: μ = (1 + s, −1)
    mu = np.stack([1 + s, -np.ones_like(s)], -1)[:, None]
    tr = Trajectory(steps, np.ones_like(mu) * [1, -1], mu, np.zeros((41, 1)), lr=0.05)
    times = StageTimes(
        stage1_end=np.array([steps[4]]), sign=np.array([0]), zero_sum=np.array([steps[30]]), homogeneous=np.array([0])
    )
    tab = zero_sum_rates({2: HeadCountRuns(2, tr, times, np.array([True]))}, D, L, S2)
    assert tab["decay rate of |Σμ_h|"].iloc[0] == pytest.approx(k, rel=1e-9)
    assert tab["2cH"].iloc[0] == pytest.approx(2 * theory.c(L, S2) * 2)


# --- the runs themselves -----------------------------------------------------------------------


def test_descend_is_reproducible_and_seeds_by_head_count():
    a = descend((2, 3), 2, D, L, S2, lr=0.05, steps=300, init_scale=0.01, seed=7, crit=CRIT, n_records=20)
    b = descend((3,), 2, D, L, S2, lr=0.05, steps=300, init_scale=0.01, seed=7, crit=CRIT, n_records=20)
    np.testing.assert_array_equal(a[3].traj.omega, b[3].traj.omega)
    assert a[2].traj.omega.shape == (len(a[2].traj.steps), 2, 2)


def test_two_head_runs_that_end_one_signed_sit_at_the_single_head_optimum():
    trap = trap_population((2,), 8, 2000, D, L, S2, lr=0.05, init_scale=0.01, seed=3, crit=CRIT, example_records=10)
    assert trap.table.iloc[0]["2^(1−H)"] == 0.5
    assert len(trap.trapped_omega) > 0
    np.testing.assert_allclose(np.abs(trap.trapped_omega), 1 / np.sqrt(D), atol=1e-3)
    ex = trap.example.omega[-1, 0]
    assert np.sign(ex[0]) == np.sign(ex[1])
    assert trap.example.loss[-1, 0] == pytest.approx(theory.single_head_optimum(D, L, S2)[2], abs=1e-6)
