"""Chapter 09's formulas: the optimal pre-conditioner of debiased GD under Σ, the exact risk, the
circuit reading Γ_TF = Σ_h μ_h A_h, and the diagonal covariance."""

import types

import numpy as np
import pytest
import torch

from icl.chapters import ch09_non_isotropic as pc
from icl.core import theory
from icl.core.data import TaskConfig, covariance_matrix, sample_prompts
from icl.core.estimators import DebiasedGD, icl_risk

D, L, S2, RHO = 3, 5, 0.1, 0.6


def _kms(d=D, rho=RHO):
    return covariance_matrix(TaskConfig(d=d, covariance="kms", rho=rho))


def _mc_gammas(debiased, k=12, n=50_000):
    return np.stack([pc.mc_optimal_gamma(_kms(), L, S2, n, debiased=debiased, seed=s) for s in range(k)])


def test_optimal_gamma_is_the_monte_carlo_minimiser_and_not_the_vanilla_one():
    G = _mc_gammas(True)
    mean, se = G.mean(0), G.std(0, ddof=1) / np.sqrt(len(G))
    dist, noise = np.linalg.norm(mean - pc.gamma_dgd_opt(_kms(), L, S2)), np.linalg.norm(se)
    assert dist < 4 * noise
    assert np.linalg.norm(mean - theory.gamma_star(_kms(), L, S2)) > 6 * noise  # the test tells them apart


def test_vanilla_gamma_star_is_the_monte_carlo_minimiser_of_vanilla_gd():
    G = _mc_gammas(False)
    mean, se = G.mean(0), G.std(0, ddof=1) / np.sqrt(len(G))
    assert np.linalg.norm(mean - theory.gamma_star(_kms(), L, S2)) < 4 * np.linalg.norm(se)


def test_exact_risk_matches_monte_carlo_for_a_non_symmetric_gamma():
    rng = np.random.default_rng(1)
    G = pc.gamma_dgd_opt(_kms(), L, S2) + 0.3 * rng.standard_normal((D, D))
    task = TaskConfig(d=D, L=L, sigma2=S2, covariance="kms", rho=RHO)
    r = icl_risk(DebiasedGD(eta=1.0, gamma=G), task, 100_000, seed=3)
    assert abs(r.mean - pc.pdgd_risk(G, _kms(), L, S2)) < 4 * r.se


def test_optimal_gamma_minimises_the_exact_risk():
    S = _kms()
    G0 = pc.gamma_dgd_opt(S, L, S2)
    r0 = pc.pdgd_risk(G0, S, L, S2)
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert pc.pdgd_risk(G0 + 0.05 * rng.standard_normal((D, D)), S, L, S2) > r0


def test_isotropic_reduces_to_eta_eff_and_the_dgd_risk():
    d, L_, s2 = 5, 40, 0.1
    G = pc.gamma_dgd_opt(np.eye(d), L_, s2)
    assert np.allclose(G, theory.eta_eff(d, L_, s2) * np.eye(d))
    assert pc.pdgd_risk(G, np.eye(d), L_, s2) == pytest.approx(
        float(theory.dgd_risk(theory.eta_eff(d, L_, s2), d, L_, s2))
    )
    assert pc.best_scale(np.eye(d), np.eye(d), L_, s2) == pytest.approx(theory.dgd_optimal_eta(d, L_, s2))


def test_best_scale_minimises_the_risk_along_the_ray():
    S, G = _kms(), np.linalg.inv(_kms())
    a = pc.best_scale(G, S, L, S2)
    r = [pc.pdgd_risk(x * G, S, L, S2) for x in (0.98 * a, a, 1.02 * a)]
    assert r[1] < r[0] and r[1] < r[2]


def test_gamma_tf_is_the_mu_weighted_sum_of_kq_x_blocks():
    rng = np.random.default_rng(0)
    kq, ov = rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 4, 4))
    expected = ov[0, 3, 3] * kq[0, :3, :3] + ov[1, 3, 3] * kq[1, :3, :3]
    assert np.allclose(pc.gamma_tf(kq, ov, 3), expected)


def test_head_alignment_of_opposite_multiples_of_one_matrix():
    G = _kms()
    A = np.stack([0.2 * G, -0.15 * G])
    w, res = pc.head_alignment(A, 3.0 * G)
    assert np.allclose(res, 0, atol=1e-12)
    assert np.allclose(w, [0.2 * np.linalg.norm(G), -0.15 * np.linalg.norm(G)])


def test_sin_angle_is_scale_free_and_zero_only_for_multiples():
    G = _kms()
    assert pc.sin_angle(3 * G, G) == pytest.approx(0, abs=1e-7)
    assert pc.sin_angle(G, np.eye(D)) > 0.1
    assert pc.sin_angle(G, -2 * G) == pytest.approx(0, abs=1e-7)


def test_small_kq_transformer_is_preconditioned_debiased_gd():
    """Two heads A_1 = −A_2 = εΓ, μ_1 = −μ_2 = 1/(2ε): as ε → 0 the kernel sum → dGD with Γ."""
    task = TaskConfig(d=D, L=L, sigma2=S2, covariance="kms", rho=RHO)
    P = sample_prompts(task, 2_000, torch.Generator().manual_seed(0), dtype=torch.float64)
    G = torch.as_tensor(pc.gamma_dgd_opt(_kms(), L, S2))
    ref = DebiasedGD(eta=1.0, gamma=G.numpy())(P)[:, 0]
    errs = []
    for eps in (1e-2, 1e-3):
        s = torch.einsum("bld,de,be->bl", P.X, G, P.x_q)
        y = P.y[:, :, 0]
        pred = ((torch.softmax(eps * s, -1) - torch.softmax(-eps * s, -1)) * y).sum(-1) / (2 * eps)
        errs.append(float((pred - ref).abs().max()))
    assert errs[1] < errs[0] / 5 and errs[1] < 1e-2


def test_diagonal_covariance_has_the_kms_spectrum_on_the_axes():
    Sd = covariance_matrix(TaskConfig(d=4, covariance="diagonal", rho=0.5))
    assert np.allclose(Sd, np.diag(np.diag(Sd)))
    assert np.allclose(np.diag(Sd), np.sort(np.linalg.eigvalsh(_kms(4, 0.5)))[::-1])
    assert len(set(np.round(np.diag(Sd), 8))) == 4
    X = sample_prompts(TaskConfig(d=4, covariance="diagonal", rho=0.5), 20_000, torch.Generator().manual_seed(0)).X
    emp = np.cov(X.reshape(-1, 4).numpy().T)
    assert np.abs(emp - Sd).max() < 0.03


def test_diagonal_covariance_validates_rho_and_keeps_existing_cache_keys():
    with pytest.raises(ValueError, match="rho"):
        TaskConfig(covariance="diagonal", rho=1.0)
    from icl.runs.config import RunConfig

    assert "covariance" in RunConfig().to_dict()["task"] and RunConfig().to_dict()["task"]["covariance"] == "isotropic"
    assert set(RunConfig().to_dict()["task"]) == {"d", "L", "sigma2", "covariance", "rho", "supports", "shared_beta"}


# --- §5.3's pattern readings (ours) ----------------------------------------------------------------


def test_beyond_tridiagonal_tells_the_optimal_entries_from_sigma_inverse_zeros():
    S = _kms(5, 0.5)
    opt, sinv = pc.gamma_dgd_opt(S, 40, 0.1), np.linalg.inv(S)
    assert pc.beyond_tridiagonal(opt, opt)[0] == pytest.approx(-1)
    assert pc.beyond_tridiagonal(3.0 * opt, opt)[0] == pytest.approx(-1)  # scale-free
    assert pc.beyond_tridiagonal(sinv, opt) == pytest.approx((1, 0), abs=1e-9)  # Σ⁻¹ is tridiagonal
    assert 0 < pc.beyond_tridiagonal(opt, opt)[1] < 0.05  # Γ_dGD's entries there are small but not zero
    rng = np.random.default_rng(0)
    for _ in range(10):  # Σ⁻¹ plus noise of the size of Γ_dGD's entries there: never closer to Γ_dGD
        noise = 0.02 * rng.standard_normal((5, 5))
        assert pc.beyond_tridiagonal(sinv + noise, opt)[0] > 0


def test_harmonic_rate_of_the_optimal_preconditioner_is_eta_eff_when_tr_sigma_is_d():
    for S in (np.eye(5), _kms(5, 0.5), _kms(5, 0.8)):
        assert pc.harmonic_rate(pc.gamma_dgd_opt(S, 40, 0.1)) == pytest.approx(theory.eta_eff(5, 40, 0.1))
    assert pc.harmonic_rate(2.0 * np.eye(3)) == pytest.approx(2.0)


def test_read_run_rate_is_the_trace_of_gamma_tf_and_its_pattern_readings():
    G, d = _kms(), D
    kq, ov = np.zeros((2, d + 1, d + 1)), np.zeros((2, d + 1, d + 1))
    kq[0, :d, :d], kq[1, :d, :d] = 0.1 * G, -0.1 * G
    ov[0, d, d], ov[1, d, d] = 3.0, -3.0
    ov[0, d, 0] = 0.3  # an OV x-part entry, 1/10 of |μ_1|
    run = types.SimpleNamespace(config=types.SimpleNamespace(task=TaskConfig(d=d)), kq=kq, ov=ov)
    r = pc.read_run(run)
    assert r.rate == pytest.approx(np.trace(r.gamma) / d) and r.rate == pytest.approx(0.6 * np.trace(G) / d)
    assert np.allclose(r.ov_x, [0.1, 0.0])
    off = np.abs(G - np.diag(np.diag(G))).max()  # KMS: unit diagonal, so the spread is 0
    assert np.allclose(r.not_identity, off)
