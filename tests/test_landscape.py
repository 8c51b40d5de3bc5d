import numpy as np
import pytest

from icl import theory
from icl.data import TaskConfig
from icl.estimators import icl_risks, two_kernel
from icl.landscape import approx_loss_two_head, softmax_sq_norms, true_loss_grid, two_kernel_sample

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
