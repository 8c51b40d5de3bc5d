"""Closed forms of the paper's theory (§4, App. B, App. D), in NumPy.

Conventions: MSE without ½; c = (1 + σ²)/L; exp is entrywise. For H heads with effective
parameters ω, μ ∈ R^H the approximate loss (Prop. 4.1) is

    L̃(ω, μ) = 1 + σ² − 2 μᵀω + μᵀ (ωωᵀ + c E) μ,      E = exp(d ωωᵀ)               (4.1)

Its solution manifold (4.6–4.7): heads at ±ω or dummy, μ*(ω) = ω / (2ω² + 2c sinh(dω²)) per
signed pair, L̃ = 1 + σ² − ω²/(ω² + c sinh(dω²)), infimum as ω → 0: η_eff → 1/(1 + cd).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "c",
    "approx_loss_and_grad",
    "approx_grad",
    "approx_loss",
    "approx_loss_grad",
    "mu_star",
    "manifold_mu",
    "manifold_loss",
    "manifold_eta",
    "eta_eff",
    "approx_floor",
    "single_head_loss",
    "single_head_optimum",
    "gd_risk",
    "gd_optimal_eta",
    "dgd_risk",
    "dgd_optimal_eta",
    "bayes_risk_mc",
    "mc_over_contexts",
    "bayes_risk_asymptotic",
    "gd_risk_asymptotic",
    "ode_rhs",
    "gamma_star",
]


def c(L: int, sigma2: float) -> float:
    """The constant c = (1 + σ²)/L of the approximate loss (4.1): the weight of the softmax's
    second-moment term, E‖p‖² ≈ e^{dω²}/L, times the label variance 1 + σ²."""
    return (1.0 + sigma2) / L


def _c(L: int, sigma2: float) -> float:  # for functions whose local variable is called c
    return c(L, sigma2)


def approx_loss_and_grad(omega, mu, d: int, L: int, sigma2: float):
    """L̃ and its gradient for R parameter vectors at once (the one implementation of (4.1)).

    omega, mu: (R, H) → loss (R,), ∇_ω L̃ (R, H), ∇_μ L̃ (R, H), with
    ∇_μ L̃ = −2ω + 2(ωωᵀ + cE)μ and ∇_ω L̃ = −2μ + 2(μᵀω)μ + 2cd · μ ∘ (E(μ ∘ ω)).
    """
    w, m = np.asarray(omega, float), np.asarray(mu, float)
    c, s, Em, g_w, g_mu = _approx_terms(w, m, d, L, sigma2)
    loss = 1 + sigma2 - 2 * s + s**2 + c * np.einsum("ri,ri->r", m, Em)
    return loss, g_w, g_mu


def approx_grad(omega, mu, d: int, L: int, sigma2: float):
    """(∇_ω L̃, ∇_μ L̃) of `approx_loss_and_grad` without the loss (gradient descent's inner loop)."""
    return _approx_terms(np.asarray(omega, float), np.asarray(mu, float), d, L, sigma2)[3:]


def _approx_terms(w, m, d, L, sigma2):
    """c, μᵀω (R,), Eμ (R, H), ∇_ω L̃, ∇_μ L̃ (R, H) for float arrays w, m (R, H)."""
    c = _c(L, sigma2)
    E = np.exp(d * w[:, :, None] * w[:, None, :])  # (R, H, H)
    s = np.einsum("rh,rh->r", m, w)  # μᵀω
    Em = np.einsum("rij,rj->ri", E, m)  # E μ
    g_mu = -2 * w + 2 * s[:, None] * w + 2 * c * Em
    g_w = -2 * m + 2 * s[:, None] * m + 2 * c * d * m * np.einsum("rij,rj->ri", E, m * w)
    return c, s, Em, g_w, g_mu


def approx_loss(omega, mu, d: int, L: int, sigma2: float) -> float:
    """L̃(ω, μ) of (4.1) for ω, μ ∈ R^H."""
    return float(approx_loss_and_grad(np.atleast_1d(omega)[None], np.atleast_1d(mu)[None], d, L, sigma2)[0][0])


def approx_loss_grad(omega, mu, d: int, L: int, sigma2: float) -> tuple[np.ndarray, np.ndarray]:
    """(∇_ω L̃, ∇_μ L̃) for ω, μ ∈ R^H."""
    _, g_w, g_mu = approx_loss_and_grad(np.atleast_1d(omega)[None], np.atleast_1d(mu)[None], d, L, sigma2)
    return g_w[0], g_mu[0]


def mu_star(omega, d: int, L: int, sigma2: float) -> np.ndarray:
    """argmin_μ L̃(ω, μ) = (ωωᵀ + cE)⁻¹ ω for fixed ω."""
    w = np.asarray(omega, float)
    A = np.outer(w, w) + c(L, sigma2) * np.exp(d * np.outer(w, w))
    return np.linalg.solve(A, w)


def manifold_mu(omega, d: int, L: int, sigma2: float):
    """μ*(ω) of (4.6): total OV weight of the + heads at KQ scale ω on S(ω)."""
    w = np.asarray(omega, float)
    return w / (2 * w**2 + 2 * c(L, sigma2) * np.sinh(d * w**2))


def manifold_loss(omega, d: int, L: int, sigma2: float):
    """L̃ on S(ω): 1 + σ² − ω² / (ω² + c sinh(dω²))."""
    w2 = np.asarray(omega, float) ** 2
    return 1 + sigma2 - w2 / (w2 + c(L, sigma2) * np.sinh(d * w2))


def manifold_eta(omega, d: int, L: int, sigma2: float):
    """η(ω) = 2ω μ*(ω), the debiased-GD rate the model implements on S(ω)."""
    w = np.asarray(omega, float)
    return 2 * w * manifold_mu(w, d, L, sigma2)


def eta_eff(d: int, L: int, sigma2: float) -> float:
    """lim_{ω→0} η(ω) = 1/(1 + cd) = L / (L + d(1 + σ²)) (0.879 at the defaults)."""
    return L / (L + d * (1 + sigma2))


def approx_floor(d: int, L: int, sigma2: float) -> float:
    """inf L̃ over S(ω): 1 + σ² − η_eff."""
    return 1 + sigma2 - eta_eff(d, L, sigma2)


def single_head_loss(omega, d: int, L: int, sigma2: float):
    """L̃ of one head at its best μ: 1 + σ² − ω²/(ω² + c e^{dω²})."""
    w2 = np.asarray(omega, float) ** 2
    return 1 + sigma2 - w2 / (w2 + c(L, sigma2) * np.exp(d * w2))


def single_head_optimum(d: int, L: int, sigma2: float) -> tuple[float, float, float]:
    """(ω, μ, L̃) at the single-head optimum ω = 1/√d (4.12)."""
    w = 1 / math.sqrt(d)
    mu = float(mu_star([w], d, L, sigma2)[0])
    return w, mu, 1 + sigma2 - 1 / (1 + c(L, sigma2) * d * math.e)


# --- exact risks of the GD predictors (isotropic x, β ~ N(0, I/d)) ---------------------------


def gd_risk(eta, d: int, L: int, sigma2: float):
    """E(ŷ_GD − y_q)² = η² (1 + (d + 1 + dσ²)/L) − 2η + 1 + σ²  (exact)."""
    eta = np.asarray(eta, float)
    return eta**2 * (1 + (d + 1 + d * sigma2) / L) - 2 * eta + 1 + sigma2


def gd_optimal_eta(d: int, L: int, sigma2: float) -> float:
    """η* = L / (L + d(1 + σ²) + 1); the risk there is 1 + σ² − η*."""
    return L / (L + d * (1 + sigma2) + 1)


def _dgd_moments(d, L, sigma2):
    # g̃ = (1/L) Xᵀ P y with P the centring projection: XᵀPX ~ Wishart(d, n = L − 1), so
    # E⟨g̃, β⟩ = n/L and E‖g̃‖² = (n(n + d + 1) + σ² n d) / L².
    n = L - 1
    return n / L, (n * (n + d + 1) + sigma2 * n * d) / L**2


def dgd_risk(eta, d: int, L: int, sigma2: float):
    """E(ŷ_dGD − y_q)² = η² E‖g̃‖² − 2η E⟨g̃, β⟩ + 1 + σ²  (exact; 0.243 at η_eff, defaults)."""
    eta = np.asarray(eta, float)
    m1, m2 = _dgd_moments(d, L, sigma2)
    return eta**2 * m2 - 2 * eta * m1 + 1 + sigma2


def dgd_optimal_eta(d: int, L: int, sigma2: float) -> float:
    """The rate minimising `dgd_risk`."""
    m1, m2 = _dgd_moments(d, L, sigma2)
    return m1 / m2


# --- Bayes risk ---------------------------------------------------------------------------


def bayes_risk_mc(d: int, L: int, sigma2: float, n_prompts: int = 20_000, seed: int = 0, batch: int = 5_000):
    """Bayes risk E(x_qᵀβ̂_ridge − y_q)² with λ = dσ², by Monte Carlo: (mean, standard error).

    Uses the posterior-variance identity: risk = σ² + E[x_qᵀ Cov(β | data) x_q] = σ² + σ² E tr((XᵀX + dσ²I)⁻¹),
    which has far less variance than squared errors.
    """
    if sigma2 == 0:
        raise ValueError("sigma2 must be > 0 for the Bayes risk (the posterior is then degenerate)")

    def risk_given_X(X):
        A = X.transpose(0, 2, 1) @ X + d * sigma2 * np.eye(d)
        return sigma2 + sigma2 * np.trace(np.linalg.inv(A), axis1=1, axis2=2)

    return mc_over_contexts(risk_given_X, d, L, n_prompts, seed=seed, batch=batch)


def mc_over_contexts(risk_given_X, d: int, L: int, n_prompts: int, *, seed: int = 0, batch: int = 5_000):
    """Monte Carlo over contexts X ~ N(0, I_d)^L of a conditional risk `risk_given_X`
    ((B, L, d) → (B,)): (mean, standard error), drawn in batches from one seeded generator."""
    if isinstance(n_prompts, bool) or not isinstance(n_prompts, (int, np.integer)) or n_prompts < 2:
        raise ValueError(f"n_prompts must be an integer >= 2, got {n_prompts!r}")
    rng = np.random.default_rng(seed)
    vals, left = [], n_prompts
    while left > 0:
        b = min(batch, left)
        left -= b
        vals.append(risk_given_X(rng.standard_normal((b, L, d))))
    v = np.concatenate(vals)
    return float(v.mean()), float(v.std() / math.sqrt(v.size))


def bayes_risk_asymptotic(xi, sigma2):
    """lim Bayes risk as d, L → ∞, d/L → ξ (Marchenko-Pastur):
    ½ [σ² + 1 − 1/ξ + √(4σ² + (σ² − 1 + 1/ξ)²)]."""
    xi, s = np.asarray(xi, float), np.asarray(sigma2, float)
    return 0.5 * (s + 1 - 1 / xi + np.sqrt(4 * s + (s - 1 + 1 / xi) ** 2))


def gd_risk_asymptotic(xi, sigma2):
    """lim optimal (vanilla or debiased) GD risk, d/L → ξ: 1 + σ² − 1/(1 + ξ(1 + σ²))."""
    xi, s = np.asarray(xi, float), np.asarray(sigma2, float)
    return 1 + s - 1 / (1 + xi * (1 + s))


# --- App. B: symmetric two-head gradient flow ------------------------------------------------


def ode_rhs(t, state, d: int, L: int, sigma2: float):
    """d(ω, μ)/dt for ω_1 = −ω_2 = ω, μ_1 = −μ_2 = μ under gradient flow on the per-head L̃
    (L̃ = 1 + σ² − 4ωμ + 4μ²(ω² + c sinh(dω²))); signature fits scipy.integrate.solve_ivp."""
    w, m = state
    c = _c(L, sigma2)
    dw = 2 * m - 4 * m**2 * w * (1 + c * d * np.cosh(d * w**2))
    dm = 2 * w - 4 * m * (w**2 + c * np.sinh(d * w**2))
    return [dw, dm]


# --- §5.3: pre-conditioned GD ------------------------------------------------------------------


def gamma_star(Sigma, L: int, sigma2: float) -> np.ndarray:
    """Optimal pre-conditioner of (non-debiased) pre-conditioned GD for x ~ N(0, Σ), β ~ N(0, I/d):
    Γ* = ((1 + 1/L) Σ + ((tr Σ + dσ²)/L) I)⁻¹ (Σ = I gives η* I)."""
    S = np.asarray(Sigma, float)
    d = S.shape[0]
    return np.linalg.inv((1 + 1 / L) * S + (np.trace(S) + d * sigma2) / L * np.eye(d))
