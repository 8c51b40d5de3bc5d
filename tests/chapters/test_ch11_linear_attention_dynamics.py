"""Chapter 11's mathematics (icl.chapters.ch11_linear_attention_dynamics) against independent references: the
population loss against Monte Carlo, the flow's right-hand side against autograd, the sampled-loss moments against
the direct sum, the flow against gradient descent, the analytic white-Λ course and the scalar ODE
against the flow, the fixed points, and the step detector on constructed curves."""

import numpy as np
import pytest
import torch

from icl.chapters import ch11_linear_attention_dynamics as ld
from icl.chapters.ch11_linear_attention_dynamics import dynamics


@pytest.fixture(scope="module")
def s():
    return ld.setting(4, N=31, seed=3)


def test_paper_spectrum_has_trace_one_and_the_authors_values():
    np.testing.assert_allclose(ld.paper_spectrum(4), [0.4, 0.3, 0.2, 0.1])
    assert ld.paper_spectrum(8).sum() == pytest.approx(1.0)


def test_setting_basis_is_orthogonal_and_lam_is_its_spectrum(s):
    np.testing.assert_allclose(s.E.T @ s.E, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(s.Lam))[::-1], s.lam, atol=1e-12)


def test_sampled_b_has_second_moment_omega(s):
    data = ld.sample_sequences(s, 200_000, seed=0)
    b = data.b.numpy()
    emp, Om = b.T @ b / len(b), ld.omega(s.Lam, s.N)
    se = np.sqrt(np.var(np.einsum("si,sj->sij", b, b), axis=0) / len(b))
    assert np.all(np.abs(emp - Om) < 5 * se + 1e-12)


def test_population_loss_matches_monte_carlo_within_4_se(s):
    rng = np.random.default_rng(1)
    Gamma = rng.standard_normal((4, 4))
    data = ld.sample_sequences(s, 200_000, seed=2)
    err = (np.einsum("sd,de,se->s", data.b.numpy(), Gamma, data.xq.numpy()) - data.yq.numpy()) ** 2
    assert abs(err.mean() - ld.population_loss(Gamma, s.Lam, s.N)) < 4 * err.std() / np.sqrt(len(err))


@pytest.mark.parametrize("kind,R", [("merged", 4), ("separate", 1), ("separate", 2)])
def test_flow_rhs_is_minus_half_the_autograd_gradient(s, kind, R):
    p = ld.Params(kind, 3, 4, R)
    y = np.random.default_rng(0).standard_normal(p.size)
    theta = torch.tensor(y, requires_grad=True)
    Lam = torch.as_tensor(s.Lam)
    G = p.gamma(theta)
    Om = torch.as_tensor(ld.omega(s.Lam, s.N))
    loss = torch.trace(Lam) - 2 * torch.trace(G @ Lam @ Lam) + torch.trace(G.T @ Om @ G @ Lam)
    (grad,) = torch.autograd.grad(loss, theta)
    assert loss.item() == pytest.approx(ld.population_loss(p.gamma(y), s.Lam, s.N))
    np.testing.assert_allclose(dynamics._flow_rhs(p, s.Lam, s.N)(0.0, y), -0.5 * grad.numpy(), rtol=1e-10, atol=1e-12)


def test_separate_rank_one_gamma_is_sum_of_outer_products():
    p = ld.Params("separate", 2, 3, 1)
    y = np.arange(p.size, dtype=float)
    v, K, Q = p.unpack(y)
    ref = sum(v[i] * np.outer(K[i, :, 0], Q[i, :, 0]) for i in range(2))
    np.testing.assert_allclose(p.gamma(y), ref)


def test_sampled_loss_moments_equal_the_direct_sum(s):
    data = ld.sample_sequences(s, 500, seed=4)
    y2, A, M = dynamics._moments(data)
    g = torch.as_tensor(np.random.default_rng(5).standard_normal((4, 4)))
    assert (y2 - 2 * g.reshape(-1) @ A + g.reshape(-1) @ M @ g.reshape(-1)).item() == pytest.approx(
        ld.sampled_loss(g, data).item(), rel=1e-10
    )


def test_fixed_points_have_zero_gradient_and_the_plateau_losses(s):
    for m in range(5):
        Gm = ld.plateau_gamma(s, m)
        assert ld.population_loss(Gm, s.Lam, s.N) == pytest.approx(ld.plateau_losses(s)[m], rel=1e-12)
        # Γ_S is stationary along the directions in S, and ∂L vanishes in the eigenbasis diagonal block of S
        Gd = s.E.T @ ld.gradient_G(Gm, s.Lam, s.N) @ s.E
        np.testing.assert_allclose(Gd[:m, :m], 0, atol=1e-12)
    Gstar = np.linalg.inv(s.Lam + (s.Lam + np.trace(s.Lam) * np.eye(4)) / s.N)
    np.testing.assert_allclose(ld.plateau_gamma(s, 4), Gstar, atol=1e-10)
    np.testing.assert_allclose(ld.gradient_G(Gstar, s.Lam, s.N), 0, atol=1e-12)


def test_plateau_losses_at_the_authors_setting():
    s = ld.setting(4, N=31)
    np.testing.assert_allclose(ld.plateau_losses(s), [1, 0.6406, 0.3774, 0.2098, 0.1360], atol=5e-5)


def test_white_analytic_course_matches_the_flow():
    s = ld.setting(4, N=31, lam=np.ones(4))
    p, y0 = ld.white_init(3, 4, 1e-2)
    t = np.linspace(0.01, 4, 50)
    tr = ld.flow(p, y0, s, t, rtol=1e-10)
    np.testing.assert_allclose(tr.loss, ld.white_loss(t, 4, 31, 3 * 1e-4 / 2), atol=1e-6)
    assert ld.white_loss(1e3, 4, 31, 1e-4) == pytest.approx(4 * 5 / (31 + 5))


def test_scalar_ode_is_the_flow_of_a_balanced_new_head(s):
    """Heads 1..m at M_m (k = q = v e_d, v³ = (λ_d c_d)⁻¹), head m+1 = v0·e_{m+1}: v follows the scalar ODE."""
    m, v0, c = 1, 0.05, ld.c_d(s)
    p = ld.Params("separate", 2, 4, 1)
    vs = np.array([(s.lam[0] * c[0]) ** (-1 / 3), v0])
    K = np.stack([vs[0] * s.E[:, 0], v0 * s.E[:, m]])[:, :, None]
    y0 = np.concatenate([vs, K.ravel(), K.ravel()])
    t = np.linspace(0, 300, 30)
    tr = ld.flow(p, y0, s, t, rtol=1e-10)
    np.testing.assert_allclose(p.unpack(tr.y)[0][:, 1], ld.scalar_ode(s.lam[m], c[m], v0, t), rtol=1e-5)


def test_gd_follows_the_flow_with_time_two_eta(s):
    """Many sequences and a small rate: GD's population loss tracks the flow at t = 2ηk."""
    p, y0 = ld.init_merged(2, 4, 0.3 / np.sqrt(s.N), s.N, seed=1)
    data = ld.sample_sequences(s, 200_000, seed=6)
    run = ld.gd(p, y0, s, data, lr=0.01, steps=2000, record=np.array([500, 1000, 2000]))
    fl = ld.flow(p, y0, s, run.t)
    np.testing.assert_allclose(run.t, [10, 20, 40])
    np.testing.assert_allclose(run.loss, fl.loss, rtol=0.02)


def test_detector_counts_sigmoid_steps_and_ignores_flat_curves():
    t = np.geomspace(1, 1e4, 800)
    one = 0.2 + 0.8 / (1 + (t / 100) ** 8)
    three = 0.1 + sum(0.3 / (1 + (t / c) ** 10) for c in (10, 200, 3000))
    assert len(ld.detect_drops(t, one)) == 1
    drops = ld.detect_drops(t, three)
    assert len(drops) == 3 and [d.t_start < c < d.t_end for d, c in zip(drops, (10, 200, 3000))] == [True] * 3
    plateaus, _ = ld.plateau_readings(t, three, drops)
    np.testing.assert_allclose(plateaus, [1.0, 0.7, 0.4, 0.1], atol=1e-3)
    assert ld.detect_drops(t, 1 - 0.3 * np.log(t) / np.log(1e4)) == []  # a steady descent has no drop


def test_halfway_time_and_escape_slope():
    t = np.geomspace(1, 100, 2000)
    assert ld.halfway_time(t, 1 / (1 + t / 10), 1.0, 0.0) == pytest.approx(10, rel=1e-3)
    assert ld.escape_slope([2, 4, 6], [np.exp(-1), np.exp(-2), np.exp(-3)]) == pytest.approx(2)


def test_same_seed_same_numbers(s):
    a, b = ld.sample_sequences(s, 10, 7), ld.sample_sequences(s, 10, 7)
    assert torch.equal(a.b, b.b) and torch.equal(a.yq, b.yq)


def test_eigen_contributions_are_one_per_head_at_a_fixed_point(s):
    """Heads i = 1, 2 at k = q = v e_i with v³ = (λ_i c_i)⁻¹: head i carries all of e_i, nothing else; Γ = Γ_{M_2}."""
    p, c = ld.Params("separate", 2, 4, 1), ld.c_d(s)
    v = (s.lam[:2] * c[:2]) ** (-1 / 3)
    K = (s.E[:, :2] * v).T[:, :, None]
    y = np.concatenate([v, K.ravel(), K.ravel()])
    np.testing.assert_allclose(p.gamma(y), ld.plateau_gamma(s, 2), atol=1e-12)
    tr = ld.Trajectory(p, np.array([1.0]), np.array([0.0]), y[None])
    np.testing.assert_allclose(ld.eigen_contributions(tr, s)[0], np.eye(2, 4), atol=1e-12)


@pytest.mark.parametrize("kind,R", [("merged", 4), ("separate", 1)])
def test_gd_equals_autograd_descent_on_the_sampled_loss(s, kind, R):
    p = ld.Params(kind, 2, 4, R)
    y0 = 0.5 * np.random.default_rng(8).standard_normal(p.size)
    data = ld.sample_sequences(s, 300, seed=9)
    run = ld.gd(p, y0, s, data, lr=0.05, steps=20, record=np.array([20]))
    np.testing.assert_allclose(run.y[-1], ld.gd_autograd(p, y0, data, 0.05, 20), rtol=1e-9, atol=1e-12)
    g = torch.as_tensor(p.gamma(run.y[-1]))
    assert run.train_loss[-1] == pytest.approx(ld.sampled_loss(g, data).item(), rel=1e-10)


def test_authors_init_maps_their_per_layer_scales_to_our_normalisation():
    """The authors' layers draw N(0, init²/numel); their Γ sums over N tokens, ours averages: the weights'
    empirical scales match init·N^{1/3}/√numel per factor (separate) and init·N^{1/2} (merged)."""
    H, D, R, N, init = 50, 4, 2, 31, 0.01
    p, y = ld.init_separate(H, D, R, init, N, seed=0)
    v, K, Q = p.unpack(y)
    a = init * N ** (1 / 3)
    np.testing.assert_allclose(v.std(), a / ((D + 1) * np.sqrt(H)), rtol=0.25)
    np.testing.assert_allclose([K.std(), Q.std()], a / np.sqrt(H * R * (D + 1)), rtol=0.1)
    _, ym = ld.init_merged(H, D, init, N, seed=0)
    np.testing.assert_allclose(ym.std(), init * np.sqrt(N), rtol=0.05)


def test_plateau_readings_when_the_last_drop_runs_to_the_end():
    t = np.geomspace(1, 100, 50)
    loss = 1.0 / (1 + (t / 80) ** 12)  # still falling at the last point
    drops = ld.detect_drops(t, loss)
    assert drops and drops[-1].t_end == t[-1]
    levels, idx = ld.plateau_readings(t, loss, drops)
    assert len(levels) == len(drops) + 1 and idx[-1] <= len(t) - 1


def test_lsoda_and_dop853_flows_agree(s):
    """The default solver (LSODA) against an explicit high-order one on a separate rank-one run with its drops."""
    p, y0 = ld.init_separate(3, s.D, 1, 0.05, s.N, seed=2)
    t = np.geomspace(1, 3000, 60)
    a, b = ld.flow(p, y0, s, t, method="LSODA"), ld.flow(p, y0, s, t)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-4)


# --- checks of our own formulas that an earlier version counted as claims (issue 29) --------------------------


def test_loss_at_zero_is_the_trace_and_merged_gd_rests_there_first(s):
    """L(Γ = 0) = tr Λ (an identity of the loss); a merged run from a tiny init reads its first plateau there."""
    assert ld.population_loss(np.zeros((4, 4)), s.Lam, s.N) == pytest.approx(s.trace, rel=1e-14)
    p, y0 = ld.init_merged(4, 4, 1e-6, s.N, seed=0)
    run = ld.gd(p, y0, s, ld.sample_sequences(s, 20_000, seed=1), 0.05, 3000, np.unique(np.geomspace(1, 3000, 200)))
    r = ld.read(run, ld_tol())
    assert len(r.drops) == 1 and r.plateaus[0] == pytest.approx(s.trace, rel=1e-3)


def test_flow_escape_slope_is_the_linearised_rate(s):
    """Our linearisation around Γ = 0: the flow's half-way time grows like ln(1/init)/‖Λ²‖_F."""
    p, direction = ld.init_merged(4, 4, 1.0, s.N, seed=2)
    inits = (1e-2, 1e-3, 1e-4, 1e-5)
    t = np.geomspace(0.1, 300, 400)
    esc = [ld.halfway_time(t, ld.flow(p, e * direction, s, t).loss, s.trace, ld.converged_loss(s)) for e in inits]
    assert ld.escape_slope(esc, inits) == pytest.approx(1 / np.linalg.norm(s.Lam @ s.Lam), rel=0.02)


def test_fewer_rank_one_heads_than_directions_stall_at_the_plateau_of_H_directions(s):
    """rank Γ ≤ H, so H = 2 < D = 4 heads end at L(M_2) and the flow ends there (our inference, our flow)."""
    p, y0 = ld.init_separate(2, 4, 1, 0.05, s.N, seed=0)
    tr = ld.flow(p, y0, s, np.geomspace(1, 2e4, 100), method="LSODA")
    assert tr.loss[-1] == pytest.approx(ld.plateau_losses(s)[2], rel=1e-3)


def test_learning_times_and_the_law_slope():
    s4 = ld.setting(4, N=31)
    lv = ld.plateau_losses(s4)
    t = np.geomspace(1, 1e4, 2000)
    centres = 5 / s4.lam**2  # t_m ∝ λ_m⁻² exactly
    loss = lv[-1] + sum((lv[m] - lv[m + 1]) / (1 + (t / centres[m]) ** 12) for m in range(4))
    tr = ld.Trajectory(ld.Params("separate", 4, 4), t, loss, np.zeros((len(t), 1)))
    times = ld.learning_times(tr, s4)
    np.testing.assert_allclose(times, centres, rtol=0.02)
    np.testing.assert_allclose(ld.time_law_slopes(np.stack([times, np.full(4, np.nan)]), s4.lam), [-2], atol=0.02)
    short = ld.Trajectory(tr.p, t[:800], loss[:800], tr.y[:800])
    assert np.isnan(ld.learning_times(short, s4)[-1])


def test_detector_floor_is_half_the_smallest_step_below_the_budget_floor():
    tol = ld_tol()
    assert ld.detector_floor(ld.setting(4, N=31), tol) == tol.drop_min_frac  # D = 4: the smallest step is 9 %
    lv = ld.plateau_losses(ld.setting(8, N=31))
    assert ld.detector_floor(ld.setting(8, N=31), tol) == pytest.approx(0.5 * (lv[-2] - lv[-1]) / (lv[0] - lv[-1]))


def ld_tol():
    from icl.book.budgets.ch11_linear_attention_dynamics import TOLERANCES

    return TOLERANCES
