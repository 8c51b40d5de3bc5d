from types import SimpleNamespace

import numpy as np
import pytest

from icl.chapters.ch05_gradient_flow import SymmetricReading, flow_study, phase_table, symmetric_reading
from icl.core import theory
from icl.core.dynamics import (
    Trajectory,
    approx_loss_and_grad,
    flow_phases,
    gd_approx,
    gd_approx_heads,
    small_init,
    stage_times,
    symmetric_loss,
    two_head_flow,
)

D, L, S2 = 5, 40, 0.1


def test_batched_loss_and_gradient_match_theory_and_finite_differences():
    w, m = small_init(3, 4, 0.3, seed=0)
    loss, gw, gm = approx_loss_and_grad(w, m, D, L, S2)
    for r in range(4):
        assert loss[r] == pytest.approx(theory.approx_loss(w[r], m[r], D, L, S2), rel=1e-12)
        tw, tm = theory.approx_loss_grad(w[r], m[r], D, L, S2)
        np.testing.assert_allclose(gw[r], tw, rtol=1e-10)
        np.testing.assert_allclose(gm[r], tm, rtol=1e-10)
        h = 1e-6  # central differences of the scalar loss: an independent check of both
        for i in range(3):
            e = np.eye(3)[i] * h
            fd_w = (theory.approx_loss(w[r] + e, m[r], D, L, S2) - theory.approx_loss(w[r] - e, m[r], D, L, S2)) / (
                2 * h
            )
            fd_m = (theory.approx_loss(w[r], m[r] + e, D, L, S2) - theory.approx_loss(w[r], m[r] - e, D, L, S2)) / (
                2 * h
            )
            assert gw[r, i] == pytest.approx(fd_w, rel=1e-6, abs=1e-8)
            assert gm[r, i] == pytest.approx(fd_m, rel=1e-6, abs=1e-8)


def test_gd_first_step_and_monotone_loss():
    w0, m0 = small_init(4, 2, 0.05, seed=1)
    tr = gd_approx(w0, m0, D, L, S2, lr=0.01, steps=2000, n_records=50)
    _, gw, gm = approx_loss_and_grad(w0, m0, D, L, S2)
    i = np.flatnonzero(tr.steps == 1)[0]
    np.testing.assert_allclose(tr.omega[i], w0 - 0.01 * gw, rtol=1e-12)
    np.testing.assert_allclose(tr.mu[i], m0 - 0.01 * gm, rtol=1e-12)
    assert np.all(np.diff(tr.loss, axis=0) <= 1e-12)  # small steps descend
    assert tr.omega.shape == (len(tr.steps), 2, 4) and tr.steps[0] == 0 and tr.steps[-1] == 2000


def _reference_gd(w, m, lr, steps):
    """GD written out with the reference gradient (`theory.approx_grad`), one call per step."""
    w, m = np.array(w, float), np.array(m, float)
    for _ in range(steps):
        gw, gm = theory.approx_grad(w, m, D, L, S2)
        w, m = w - lr * gw, m - lr * gm
    return w, m


def test_fused_gd_steps_follow_the_reference_gradient():
    w0, m0 = small_init(4, 3, 0.3, seed=2)
    tr = gd_approx(w0, m0, D, L, S2, lr=0.05, steps=300, n_records=5)
    w, m = _reference_gd(w0, m0, 0.05, 300)
    np.testing.assert_allclose(tr.omega[-1], w, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(tr.mu[-1], m, rtol=1e-10, atol=1e-13)


def test_head_counts_descend_together_as_if_apart():
    starts = {H: small_init(H, 2, 0.05, seed=H) for H in (2, 3, 5)}
    together = gd_approx_heads(starts, D, L, S2, lr=0.05, steps=3000, n_records=30)
    for H, (w0, m0) in starts.items():
        apart = gd_approx(w0, m0, D, L, S2, lr=0.05, steps=3000, n_records=30)
        tr = together[H]
        assert tr.omega.shape == apart.omega.shape == (len(apart.steps), 2, H)
        np.testing.assert_array_equal(tr.steps, apart.steps)
        for a, b in ((tr.omega, apart.omega), (tr.mu, apart.mu), (tr.loss, apart.loss)):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-13)
    with pytest.raises(ValueError, match=r"starts\[3\] must have 3 heads"):
        gd_approx_heads({3: small_init(2, 1, 0.1, seed=0)}, D, L, S2, lr=0.05, steps=10)
    with pytest.raises(ValueError, match="starts must name"):
        gd_approx_heads({}, D, L, S2, lr=0.05, steps=10)


def test_two_head_gd_reaches_the_optimality_condition():
    tr = gd_approx([0.01, -0.01], [0.01, -0.01], D, L, S2, lr=0.05, steps=20_000, n_records=20)
    w, m = tr.omega[-1, 0], tr.mu[-1, 0]
    assert w[0] == pytest.approx(-w[1], rel=1e-12) and m[0] == pytest.approx(-m[1], rel=1e-12)  # symmetry kept
    assert w @ m == pytest.approx(theory.eta_eff(D, L, S2), rel=0.01)  # (4.3)
    # and μ sits at its optimum μ*(ω) of (4.6)
    assert m[0] == pytest.approx(theory.manifold_mu(w[0], D, L, S2), rel=0.01)


def test_flow_equals_small_step_gd_on_the_symmetric_family():
    # the ODE is the per-head gradient flow: GD with a tiny step on (ω, −ω; μ, −μ) follows it
    sol = two_head_flow(0.01, 0.01, D, L, S2, t_max=4.0, t_min=1e-3, n_eval=400)
    tr = gd_approx([0.01, -0.01], [0.01, -0.01], D, L, S2, lr=1e-3, steps=4000, n_records=60)
    for k in range(len(tr.steps)):
        t = tr.time[k]
        assert tr.omega[k, 0, 0] == pytest.approx(np.interp(t, sol.t, sol.omega), rel=0.02)
        assert tr.mu[k, 0, 0] == pytest.approx(np.interp(t, sol.t, sol.mu), rel=0.02)


def test_flow_phase_one_is_the_linear_solution_and_the_peak_is_a_maximum():
    sol = two_head_flow(1e-3, 1e-3, D, L, S2, t_max=1e4, n_eval=3000)
    early = (sol.t > 0) & (sol.t < 1.5)
    # (B.5)-(B.6): ω ≈ μ ≈ ω₀ e^{2t} while both are small
    np.testing.assert_allclose(sol.omega[early], 1e-3 * np.exp(2 * sol.t[early]), rtol=0.02)
    ph = flow_phases(sol)
    assert ph.n_peaks == 1
    i = np.argmax(sol.omega)
    assert sol.t[i - 1] <= ph.t_peak <= sol.t[i + 1]
    assert ph.t1 < ph.t_peak and ph.decreasing_after_peak
    assert ph.product_final == pytest.approx(ph.product_limit, rel=5e-3)


def test_stage_times_on_a_constructed_trajectory():
    steps = np.arange(6)
    eta = theory.eta_eff(D, L, S2)
    # two runs of H = 2 heads; run 0 gets every pattern at known records, run 1 never homogenises
    w = np.array([[0.10, 0.05], [0.10, -0.05], [0.10, -0.09], [0.10, -0.10], [0.10, -0.10], [0.10, -0.10]])
    m = np.array([[0.5, -0.1], [1.0, -0.2], [2.0, -1.0], [4.4, -4.4], [4.4, -4.4], [4.4, -4.4]])
    omega = np.stack([w, w * [1, 0.5]], 1)  # (S, R, H)
    mu = np.stack([m, m], 1)
    tr = Trajectory(steps, omega, mu, np.zeros((6, 2)), lr=1.0)
    st = stage_times(tr, D, L, S2)
    inner = np.einsum("sh,sh->s", w, m)
    assert st.stage1_end[0] == np.argmax(inner >= 0.95 * eta)
    assert st.sign[0] == 1 and st.zero_sum[0] == 3 and st.homogeneous[0] == 3
    assert st.homogeneous[1] == -1


def test_bad_input_raises():
    with pytest.raises(ValueError, match="lr"):
        gd_approx([0.1], [0.1], D, L, S2, lr=-1.0, steps=10)
    with pytest.raises(ValueError, match="same shape"):
        gd_approx([0.1, 0.2], [0.1], D, L, S2, lr=0.1, steps=10)
    with pytest.raises(ValueError, match="steps"):
        gd_approx([0.1], [0.1], D, L, S2, lr=0.1, steps=0)
    with pytest.raises(ValueError, match="omega0"):
        two_head_flow(-0.1, 0.1, D, L, S2)
    with pytest.raises(ValueError, match="scale"):
        small_init(2, 1, 0.0, seed=0)
    with pytest.raises(ValueError, match="d must"):
        gd_approx([0.1], [0.1], 0, L, S2, lr=0.1, steps=1)


# --- App. B: the symmetric family, the phases, and the Adam reading -----------------------------


def test_symmetric_loss_is_the_closed_form_of_app_b():
    w, m = np.array([0.05, 0.3, 0.7]), np.array([0.2, 1.5, 3.0])
    c = (1 + S2) / L
    closed = 1 + S2 - 4 * w * m + 4 * m**2 * (w**2 + c * np.sinh(D * w**2))
    np.testing.assert_allclose(symmetric_loss(w, m, D, L, S2), closed, rtol=1e-12)


def test_ode_is_the_gradient_flow_of_head_one_on_the_symmetric_family():
    # (B.4): dω/dt = −∂L̃/∂ω₁ and dμ/dt = −∂L̃/∂μ₁ at (ω, −ω; μ, −μ), from the batched gradient of (4.1)
    for w, m in ((0.01, 0.02), (0.3, 1.1), (0.6, 4.0)):
        _, gw, gm = approx_loss_and_grad(np.array([[w, -w]]), np.array([[m, -m]]), D, L, S2)
        dw, dm = theory.ode_rhs(0.0, [w, m], D, L, S2)
        assert dw == pytest.approx(-gw[0, 0], rel=1e-12) and dm == pytest.approx(-gm[0, 0], rel=1e-12)


def test_equal_start_keeps_the_ratio_at_one_while_the_parameters_are_small():
    # from Def. B.1's ω₀ = μ₀ the linearised flow keeps μ = ω exactly: the ratio moves only at O(ω²)
    sol = two_head_flow(1e-3, 1e-3, D, L, S2, t_max=10.0, n_eval=500)
    small = sol.omega < 0.05
    assert small.sum() > 100
    assert np.max(np.abs(sol.ratio[small] - 1)) < 1e-3


def test_unequal_start_follows_the_two_modes_of_the_linearised_flow():
    # (B.5) from a general start: ω = A e^{2t} + B e^{−2t}, μ = A e^{2t} − B e^{−2t}
    w0, m0 = 1e-4, 3e-4
    sol = two_head_flow(w0, m0, D, L, S2, t_max=2.0, n_eval=200)
    A, B = (w0 + m0) / 2, (w0 - m0) / 2
    t = sol.t
    # the cubic terms of (B.4) are O(ω²) ≤ 3e-6 relative here; the rest is the solver's 1e-10
    np.testing.assert_allclose(sol.omega, A * np.exp(2 * t) + B * np.exp(-2 * t), rtol=1e-3)
    np.testing.assert_allclose(sol.mu, A * np.exp(2 * t) - B * np.exp(-2 * t), rtol=1e-3)
    np.testing.assert_allclose(sol.growth_rate(), 2.0, rtol=1e-3)


def test_phase_one_end_does_not_depend_on_the_output_grid():
    coarse = flow_phases(two_head_flow(0.01, 0.01, D, L, S2, t_max=1e3, n_eval=150))
    fine = flow_phases(two_head_flow(0.01, 0.01, D, L, S2, t_max=1e3, n_eval=3000))
    assert coarse.t1 == pytest.approx(fine.t1, rel=1e-6)
    assert coarse.ratio_at_t1 == pytest.approx(fine.ratio_at_t1, rel=1e-6)


def test_phase_one_ends_where_the_growth_rate_has_dropped_by_rate_drop():
    sol = two_head_flow(0.01, 0.02, D, L, S2, t_max=1e3, n_eval=500)
    for drop in (0.3, 0.5, 0.8):
        ph = flow_phases(sol, rate_drop=drop)
        assert float(sol.growth_rate(*sol.at(ph.t1))) == pytest.approx(drop * sol.growth_rate()[0], rel=1e-6)
        assert np.all(sol.growth_rate()[sol.t < ph.t1] >= drop * sol.growth_rate()[0] - 1e-9)
    assert ph.product_limit == pytest.approx(theory.eta_eff(D, L, S2) / 2, rel=1e-14)


def test_symmetric_reading_of_a_constructed_history():
    # ω₁ = −ω₂ rising then falling, with a 2 % asymmetry in μ at one snapshot and one dip of μ
    om1 = np.array([0.01, 0.1, 0.3, 0.2, 0.15])
    mu1 = np.array([0.01, 0.5, 1.0, 0.9, 2.0])
    omega = np.stack([om1, -om1], 1)
    mu = np.stack([mu1, -mu1], 1)
    mu[2, 1] = -0.98  # |μ₁ + μ₂|/|μ₁ − μ₂| = 0.02/1.98
    hist = SimpleNamespace(
        omega=omega,
        mu=mu,
        offdiag_max=np.full((5, 2), 1e-3),
        key_y_row=np.full((5, 2), 2e-3),
        ov_x_part=np.full((5, 2), 5e-4),
    )
    r = symmetric_reading(hist, np.arange(5) * 10)
    np.testing.assert_allclose(r.omega, om1)
    assert r.i_peak == 2 and r.rises_after_peak == 0 and r.mu_falls == 1
    assert r.max_asymmetry == pytest.approx(0.02 / 1.98)
    assert r.off_pattern == pytest.approx(2e-3)
    with pytest.raises(ValueError, match="two-head"):
        symmetric_reading(SimpleNamespace(omega=np.zeros((3, 4)), mu=np.zeros((3, 4))), np.arange(3))


def test_flow_study_solves_each_case_once_and_every_start():
    st = flow_study([(D, L), (D, L), (3, 20)], S2, omega0=0.01, mu0=0.01, unequal_ratios=(0.5,), t_max=50.0, n_eval=100)
    assert st.cases == ((D, L), (3, 20))
    assert set(st.unequal) == {((D, L), 0.5), ((3, 20), 0.5)}
    assert st.unequal[((D, L), 0.5)].mu[0] == pytest.approx(0.005)
    tab = phase_table(st)
    assert list(tab.columns) == ["(d, L) = (5, 40)", "(d, L) = (3, 20)"]
    assert st.ratio_at_t1_unequal == max(abs(p.ratio_at_t1 - 1) for p in st.unequal_phases.values())


def test_prose_number_formats():
    from icl.book.format import count, power_of_ten, words

    assert words([2]) == "2" and words([2, 4]) == "2 and 4" and words([2, 4, 6]) == "2, 4 and 6"
    assert count(200_000) == "200\u202f000" and count(999) == "999"
    assert power_of_ten(1e6) == "10⁶" and power_of_ten(1e-3) == "10⁻³" and power_of_ten(2500) == "2\u202f500"


def test_reversals_are_measured_in_size_and_time():
    steps = np.array([0, 10, 20, 30, 40, 50])
    omega = np.array([0.1, 0.5, 0.3, 0.2, 0.202, 0.2])  # one peak, then a 1 % rise at step 40
    mu = np.array([0.1, 0.5, 1.0, 2.0, 1.99, 2.0])  # a 0.5 % fall at step 40
    r = SymmetricReading(steps, omega, mu, np.zeros(6), np.zeros(6), 0.0)
    assert r.rises_after_peak == 1 and r.mu_falls == 1
    rise, fall, first = r.reversals()
    assert rise == pytest.approx(0.01) and fall == pytest.approx(0.005) and first == 40
    assert r.spread_after(40) == pytest.approx(0.01)
    mono = SymmetricReading(steps[:4], omega[:4], np.sort(mu)[:4], np.zeros(4), np.zeros(4), 0.0)
    assert mono.reversals()[2] == -1
