import numpy as np
import pytest
import torch

from icl.core import theory

D, L, S2 = 5, 40, 0.1


def torch_approx_loss(w, m):
    c = (1 + S2) / L
    return 1 + S2 - 2 * m @ w + m @ (torch.outer(w, w) + c * torch.exp(D * torch.outer(w, w))) @ m


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_approx_loss_gradients_equal_autograd(seed):
    rng = np.random.default_rng(seed)
    w0, m0 = rng.normal(0, 0.3, 4), rng.normal(0, 2, 4)
    w = torch.tensor(w0, requires_grad=True)
    m = torch.tensor(m0, requires_grad=True)
    val = torch_approx_loss(w, m)
    val.backward()
    assert theory.approx_loss(w0, m0, D, L, S2) == pytest.approx(val.item(), rel=1e-12)
    gw, gm = theory.approx_loss_grad(w0, m0, D, L, S2)
    np.testing.assert_allclose(gw, w.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gm, m.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_mu_star_zeroes_the_mu_gradient():
    w = np.array([0.2, -0.15, 0.05])
    m = theory.mu_star(w, D, L, S2)
    _, gm = theory.approx_loss_grad(w, m, D, L, S2)
    assert np.abs(gm).max() < 1e-10


def test_manifold_closed_forms_agree_with_the_loss():
    for w in (0.05, 0.2, 0.5):
        mu = theory.manifold_mu(w, D, L, S2)
        # two heads (ω, −ω), (μ*, −μ*) on S(ω): μ* is optimal and L̃ has the closed form
        assert theory.mu_star([w, -w], D, L, S2) == pytest.approx([mu, -mu], rel=1e-10)
        assert theory.approx_loss([w, -w], [mu, -mu], D, L, S2) == pytest.approx(
            theory.manifold_loss(w, D, L, S2), rel=1e-12
        )


def test_manifold_limits_as_omega_vanishes():
    c = (1 + S2) / L
    assert theory.manifold_eta(1e-5, D, L, S2) == pytest.approx(1 / (1 + c * D), rel=1e-8)
    assert theory.eta_eff(D, L, S2) == pytest.approx(0.8791, abs=1e-4)
    assert theory.manifold_loss(1e-5, D, L, S2) == pytest.approx(theory.approx_floor(D, L, S2), rel=1e-8)
    ws = np.linspace(0.01, 1, 50)
    assert np.all(np.diff(theory.manifold_loss(ws, D, L, S2)) > 0)  # the river valley slopes to ω → 0


def test_single_head_optimum():
    w, mu, val = theory.single_head_optimum(D, L, S2)
    grid = np.linspace(0.05, 1.5, 2001)
    assert grid[np.argmin(theory.single_head_loss(grid, D, L, S2))] == pytest.approx(w, abs=1e-3)
    assert val == pytest.approx(0.372, abs=1e-3)
    assert theory.approx_loss([w], [mu], D, L, S2) == pytest.approx(val, rel=1e-10)


def test_ode_is_gradient_flow_on_the_symmetric_pair():
    for w, m in ((0.01, 0.02), (0.3, 1.2)):
        gw, gm = theory.approx_loss_grad([w, -w], [m, -m], D, L, S2)
        dw, dm = theory.ode_rhs(0.0, [w, m], D, L, S2)
        assert dw == pytest.approx(-gw[0], rel=1e-10)
        assert dm == pytest.approx(-gm[0], rel=1e-10)


def test_gd_closed_forms():
    eta = theory.gd_optimal_eta(D, L, S2)
    assert eta == pytest.approx(0.8602, abs=1e-4)
    assert theory.gd_risk(eta, D, L, S2) == pytest.approx(1 + S2 - eta, rel=1e-12)
    grid = np.linspace(0.5, 1.2, 7001)
    assert grid[np.argmin(theory.gd_risk(grid, D, L, S2))] == pytest.approx(eta, abs=2e-4)


def test_bayes_asymptotic_formula_against_monte_carlo():
    # ξ = 1/8 at d = 40, L = 320: finite-size effects are small
    m, se = theory.bayes_risk_mc(40, 320, 0.1, n_prompts=2000, seed=0)
    assert m == pytest.approx(float(theory.bayes_risk_asymptotic(1 / 8, 0.1)), abs=0.01)


def test_gamma_star_reduces_to_eta_star():
    G = theory.gamma_star(np.eye(D), L, S2)
    np.testing.assert_allclose(G, theory.gd_optimal_eta(D, L, S2) * np.eye(D), rtol=1e-12)
