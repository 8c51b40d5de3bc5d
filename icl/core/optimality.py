"""Theorem 4.2 numerically: the larger space Θ (4.13), its minimisers, and Monte Carlo helpers.

Θ (4.13) is lost from our copy of the paper. Our reading, from §4.3 and the proof in App. D.2
("the sum of OV parameters for the positive, negative and dummy heads … it suffices to consider
three-head attention"): for a scale ω > 0,

    Θ(ω) = { (ω_h, μ_h)_{h ≤ H} : ω_h ∈ {+ω, −ω, 0},  μ_h ∈ R },      Θ = ∪_{ω>0} Θ(ω),

i.e. the homogeneous KQ pattern is imposed, the OV weights are free (no sign matching, no
zero sum, no μ*(ω)). A point of Θ is a sign pattern s ∈ {−1, 0, 1}^H, a scale ω and μ ∈ R^H,
with ω_h = s_h ω. The solution manifold S(ω) ⊂ Θ(ω) (4.7) asks in addition that the + heads'
μ sum to μ*(ω), the − heads' to −μ*(ω), and dummy heads have μ_h = 0.

L̃ and the predictor depend on μ only through the three group sums (μ_+, μ_−, μ_0) (App. D.2),
so distances to S(ω) are measured in these reduced coordinates: ‖(μ_+ − μ*, μ_− + μ*, μ_0)‖.

Proportional regime (Thm 4.2 (iii)): conditional risks of GD predictors given the context X,
averaged in closed form over β, ε and x_q, so that a Monte Carlo over X alone has small variance.

The two chapters on Theorem 4.2 are thin layers over this module: chapter 06's `Study` (its
`approximation` and `optimality`: (i) and (ii)) and chapter 07's (`risks`, `grid`/`limits`,
`gd_dgd`, `single_head`: (iii), vanilla against debiased GD, the single head (4.12)); each
chapter's `numbers`, `claims` and `plot_*` read its Study. Seeds are offsets from the chapter's
budget seed, fixed here so that every number is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from . import theory


def _check_signs(signs) -> np.ndarray:
    s = np.asarray(signs)
    if s.ndim != 1 or s.size == 0 or not np.all(np.isin(s, (-1, 0, 1))):
        raise ValueError(f"signs must be a non-empty 1-d array with entries in {{-1, 0, 1}}, got {signs!r}")
    return s.astype(float)


def theta_loss(omega: float, mu, signs, d: int, L: int, sigma2: float) -> tuple[float, float, np.ndarray]:
    """L̃ at the point (s ω, μ) of Θ(ω), with its derivatives (∂L̃/∂ω, ∇_μ L̃).

    omega: the scale ω. mu: (H,). signs: (H,) in {−1, 0, 1}.
    """
    s = _check_signs(signs)
    w = s * omega  # (H,) the KQ scales ω_h
    val, g_w, g_mu = theory.approx_loss_and_grad(w[None], np.asarray(mu, float)[None], d, L, sigma2)
    return float(val[0]), float(s @ g_w[0]), g_mu[0]  # ∂/∂ω by the chain rule through ω_h = s_h ω


def group_sums(signs, mu) -> np.ndarray:
    """(μ_+, μ_−, μ_0): the OV sums over positive, negative and dummy heads. Leading axes of mu broadcast."""
    s = _check_signs(signs)
    m = np.asarray(mu, float)
    return np.stack([(m * (s > 0)).sum(-1), (m * (s < 0)).sum(-1), (m * (s == 0)).sum(-1)], -1)


def manifold_distance(omega, signs, mu, d: int, L: int, sigma2: float, relative: bool = True):
    """Distance of (s ω, μ) ∈ Θ(ω) to S(ω) in the reduced coordinates (μ_+, μ_−, μ_0):
    ‖(μ_+ − μ*(ω), μ_− + μ*(ω), μ_0)‖, divided by ‖(μ*, −μ*, 0)‖ = √2 μ*(ω) if `relative`.

    omega: scalar or (K,); mu: (H,) or (K, H) (a path). A pattern without a + or a − head
    cannot reach S(ω): its distance is then at least μ*(ω) (relative: 1/√2)."""
    ms = theory.manifold_mu(np.asarray(omega, float), d, L, sigma2)
    g = group_sums(signs, mu)
    dist = np.sqrt((g[..., 0] - ms) ** 2 + (g[..., 1] + ms) ** 2 + g[..., 2] ** 2)
    return dist / (math.sqrt(2) * ms) if relative else dist


def pattern_kind(signs) -> str:
    """'±' (both signs present), 'one sign + dummy', 'one sign' or 'all dummy'."""
    s = _check_signs(signs)
    pos, neg, zero = (s > 0).any(), (s < 0).any(), (s == 0).any()
    if pos and neg:
        return "±"
    if pos or neg:
        return "one sign + dummy" if zero else "one sign"
    return "all dummy"


@dataclass
class ThetaFit:
    """One local minimisation of L̃ over Θ. path_*: (K,) per L-BFGS-B iterate, starting point first."""

    signs: np.ndarray
    omega: float
    mu: np.ndarray
    loss: float
    nit: int
    message: str
    path_loss: np.ndarray = field(repr=False)
    path_omega: np.ndarray = field(repr=False)
    path_distance: np.ndarray = field(repr=False)

    @property
    def kind(self) -> str:
        return pattern_kind(self.signs)

    @property
    def eta(self) -> float:
        """Σ_h ω_h μ_h: the debiased-GD rate the predictor implements as ω → 0."""
        return float(self.omega * self.signs @ self.mu)


def minimise_theta(
    H: int,
    d: int,
    L: int,
    sigma2: float,
    n_starts: int,
    seed: int = 0,
    *,
    omega_bounds: tuple[float, float] = (1e-4, 3.0),
    omega_init: tuple[float, float] = (0.05, 1.0),
    maxiter: int = 5_000,
) -> list[ThetaFit]:
    """Minimise L̃ over Θ from `n_starts` random starts with L-BFGS-B (SciPy).

    Each start draws a sign pattern uniformly from {−1, 0, 1}^H (a component of Θ), a scale
    ω log-uniform in `omega_init` and μ ~ N(0, I_H); then (ω, μ) are optimised jointly with
    ω kept in `omega_bounds`. The sign pattern is discrete and stays fixed.
    """
    for name, v in (("H", H), ("d", d), ("L", L), ("n_starts", n_starts)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    lo, hi = omega_bounds
    if not 0 < lo < hi:
        raise ValueError(f"omega_bounds must satisfy 0 < low < high, got {omega_bounds!r}")
    rng = np.random.default_rng(seed)
    fits = []
    for _ in range(n_starts):
        signs = rng.integers(-1, 2, H).astype(float)
        w0 = math.exp(rng.uniform(math.log(omega_init[0]), math.log(omega_init[1])))
        z0 = np.r_[w0, rng.standard_normal(H)]

        def fun(z, signs=signs):
            val, g_w, g_mu = theta_loss(z[0], z[1:], signs, d, L, sigma2)
            return val, np.r_[g_w, g_mu]

        path = [z0.copy()]
        res = minimize(
            fun,
            z0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(lo, hi)] + [(None, None)] * H,
            callback=lambda z, path=path: path.append(np.array(z, copy=True)),
            options=dict(maxiter=maxiter, ftol=1e-16, gtol=1e-12),
        )
        P = np.array(path)  # (K, 1 + H)
        fits.append(
            ThetaFit(
                signs=signs,
                omega=float(res.x[0]),
                mu=res.x[1:].copy(),
                loss=float(res.fun),
                nit=int(res.nit),
                message=str(res.message),
                path_loss=np.array([fun(z)[0] for z in P]),
                path_omega=P[:, 0],
                path_distance=manifold_distance(P[:, 0], signs, P[:, 1:], d, L, sigma2),
            )
        )
    return fits


def minimise_mu(omega: float, signs, d: int, L: int, sigma2: float, seed: int = 0) -> tuple[np.ndarray, float]:
    """argmin over μ ∈ R^H of L̃(s ω, μ) at a fixed scale (a convex quadratic), by BFGS from a
    random start: (μ, L̃)."""
    s = _check_signs(signs)
    if not omega > 0:
        raise ValueError(f"omega must be > 0, got {omega!r}")
    rng = np.random.default_rng(seed)

    def fun(m):
        val, _, g = theta_loss(omega, m, s, d, L, sigma2)
        return val, g

    res = minimize(fun, rng.standard_normal(s.size), jac=True, method="BFGS", options=dict(gtol=1e-12, maxiter=10_000))
    return res.x, float(res.fun)


def one_sign_dummy_loss(omega, d: int, L: int, sigma2: float):
    """min over μ of L̃ on the component "heads at +ω and dummy heads" of Θ(ω) (no − head):
    1 + σ² − ω² / (ω² + c (e^{dω²} − 1)), reached with μ_0 = −μ_+ (one kernel minus the plain mean).

    Since e^x − 1 ≥ sinh x it lies above S(ω)'s `theory.manifold_loss`; both tend to the floor
    1 + σ² − 1/(1 + cd) as ω → 0, this one with excess O(ω²), S(ω) with excess O(ω⁴)."""
    w2 = np.asarray(omega, float) ** 2
    c = (1.0 + sigma2) / L
    return 1 + sigma2 - w2 / (w2 + c * np.expm1(d * w2))


# --- Theorem 4.2 (i): the leading approximation error -------------------------------------------


def approx_error_coefficient(X, y, x_q):
    """R with ŷ_TF − ŷ_dGD(η) = η ω² R + O(ω⁴) for the two-kernel model μ(NW_ω − NW_{−ω}), 2ωμ = η.

    With t_l = (x_l − x̄)ᵀ x_q and the empirical cumulants κ₂ = mean t², κ₃ = mean t³ (the odd part
    of log-softmax in ω): R = (1/L) Σ_l y_l (t_l³/6 − κ₂ t_l/2 − κ₃/6).
    X: (B, L, d), y: (B, L), x_q: (B, d) (NumPy or torch); returns (B,).
    """
    X, y, x_q = (np.asarray(a, float) for a in (X, y, x_q))
    if X.ndim != 3 or y.shape != X.shape[:2] or x_q.shape != (X.shape[0], X.shape[2]):
        raise ValueError(f"X, y, x_q must have shapes (B, L, d), (B, L), (B, d); got {X.shape}, {y.shape}, {x_q.shape}")
    t = np.einsum("bld,bd->bl", X - X.mean(1, keepdims=True), x_q)  # (B, L)
    k2 = (t**2).mean(1, keepdims=True)
    k3 = (t**3).mean(1, keepdims=True)
    return (y * (t**3 / 6 - k2 * t / 2 - k3 / 6)).mean(1)


# --- Theorem 4.2 (iii): GD risks at finite d, Monte Carlo over the context only -----------------


def gd_risk_given_X(X, eta, sigma2: float, debiased: bool = True):
    """E[(ŷ − y_q)² | X] for one-step (debiased) GD, averaged exactly over β ~ N(0, I/d), ε and x_q:

        (1/d) ‖(η/L) X̃ᵀX − I‖_F² + σ² (η/L)² ‖X̃‖_F² + σ²,   X̃ = X − x̄ (debiased) or X.

    X: (B, L, d); returns (B,)."""
    X = np.asarray(X, float)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (B, L, d), got {X.shape}")
    _, L, d = X.shape
    Xt = X - X.mean(1, keepdims=True) if debiased else X
    M = eta / L * np.einsum("bli,blj->bij", Xt, X) - np.eye(d)  # (B, d, d)
    return (M**2).sum((1, 2)) / d + sigma2 * (eta / L) ** 2 * (Xt**2).sum((1, 2)) + sigma2


def gd_risk_mc(
    d: int, L: int, sigma2: float, eta: float, n_prompts: int, seed: int = 0, debiased: bool = True, batch: int = 1_000
) -> tuple[float, float]:
    """Monte Carlo (over X ~ N(0, I)) of `gd_risk_given_X`: (mean, standard error)."""
    return theory.mc_over_contexts(
        lambda X: gd_risk_given_X(X, eta, sigma2, debiased), d, L, n_prompts, seed=seed, batch=batch
    )


__all__ = [
    "theta_loss",
    "group_sums",
    "manifold_distance",
    "pattern_kind",
    "ThetaFit",
    "minimise_theta",
    "minimise_mu",
    "one_sign_dummy_loss",
    "approx_error_coefficient",
    "gd_risk_given_X",
    "gd_risk_mc",
    "nw_moments",
    "nw_moment_samples",
    "nw_moment_tensors",
    "task_prompts",
    "ApproxErrors",
    "approx_errors",
    "leading_term_deviation",
]


# --- single head (4.12) ---------------------------------------------------------------------------


def nw_moments(omegas, prompts, sigma2: float) -> tuple[np.ndarray, np.ndarray]:
    """Moments of the unit NW regressor a_ω = Σ_l y_l p_l, p = softmax(ω X x_q), per ω.

    The single head's risk is exactly quadratic in μ: E(μ a_ω − y_q)² = 1 + σ² − 2μ A + μ² B with
    A = E[a_ω y_q] and B = E[a_ω²]. L̃ (4.1) approximates A ≈ ω and B ≈ ω² + c e^{dω²}.
    β ~ N(0, I/d) and the noise are integrated out exactly given the prompt's X and x_q:
    E[a_ω y_q | X, x_q] = pᵀX x_q / d and E[a_ω² | X, x_q] = ‖Xᵀp‖²/d + σ²‖p‖², so only X and x_q
    of `prompts` are used. A and B also subtract the control variates ω(|x_q|²/d − 1) and
    ω²(|x_q|²/d − 1), whose means are zero when E|x_q|² = d (isotropic or unit-diagonal covariates)
    and which remove most of the variance from the query's norm. Returns (A, B), each (len(omegas),)."""
    A, B = nw_moment_tensors(omegas, prompts, sigma2)
    return A.mean(1).numpy(), B.mean(1).numpy()


def nw_moment_samples(omegas, prompts, sigma2: float) -> tuple[np.ndarray, np.ndarray]:
    """The per-prompt terms whose means are `nw_moments`' A and B: each (len(omegas), B), so that
    a risk's Monte Carlo standard error can be computed."""
    A, B = nw_moment_tensors(omegas, prompts, sigma2)
    return A.numpy(), B.numpy()


def nw_moment_tensors(omegas, prompts, sigma2: float):
    import torch

    if not (isinstance(sigma2, (int, float)) and sigma2 >= 0):
        raise ValueError(f"sigma2 must be a number >= 0, got {sigma2!r}")
    X, xq = prompts.X, prompts.x_q
    s = torch.einsum("bld,bd->bl", X, xq)  # (B, L)
    d = X.shape[-1]
    w = torch.as_tensor(np.atleast_1d(np.asarray(omegas, float)), dtype=X.dtype)
    p = torch.softmax(w[:, None, None] * s[None], -1)  # (W, B, L)
    cv = ((xq**2).sum(-1) / d - 1)[None]  # (1, B), mean zero
    A = (p * s[None]).sum(-1) / d - w[:, None] * cv  # (W, B)
    Xp = torch.einsum("wbl,bld->wbd", p, X)
    B = (Xp**2).sum(-1) / d + sigma2 * (p**2).sum(-1) - w[:, None] ** 2 * cv
    return A, B  # (W, B) each


# =================================================================================================
# Chapter 06: Theorem 4.2 (i) and (ii), as studies of a chapter's task and budget.
# =================================================================================================


def task_prompts(task, n: int, seed: int):
    import torch

    from .data import sample_prompts

    return sample_prompts(task, n, torch.Generator().manual_seed(seed), dtype=torch.float64)


@dataclass(frozen=True)
class ApproxErrors:
    """Theorem 4.2 (i) at one (d, L): the H-head model on S(ω) with no dummy head and 2ωμ = η_eff,
    i.e. the two-kernel predictor μ(NW_ω − NW_{−ω}) (4.9), against debiased GD at η_eff.

    omegas: (W,) KQ scales. error: (W,) E|ŷ_TF − ŷ_dGD(η)| over prompts (common to every ω).
    leading: (W,) η ω² E|R|, our leading term. R: (n,) the coefficient per prompt
    (`approx_error_coefficient`)."""

    d: int
    L: int
    omegas: np.ndarray
    error: np.ndarray
    leading: np.ndarray
    R: np.ndarray

    @property
    def mean_abs_R(self) -> float:
        return float(np.abs(self.R).mean())

    @property
    def mean_abs_R_rel_se(self) -> float:
        """Standard error of E|R| relative to E|R| (= the s.e. of log E|R|)."""
        a = np.abs(self.R)
        return float(a.std() / math.sqrt(a.size) / a.mean())


def approx_errors(task, omegas, n_prompts: int, seed: int = 0) -> ApproxErrors:
    """`ApproxErrors` for `task` (its d, L, σ²) at the KQ scales `omegas`, on `n_prompts` prompts
    drawn with `seed`; η = η_eff(d, L, σ²) and μ = η/(2ω) at every ω."""
    from .estimators import DebiasedGD, two_kernel

    P = task_prompts(task, n_prompts, seed)
    eta = theory.eta_eff(task.d, task.L, task.sigma2)
    ref = DebiasedGD(eta)(P)[:, 0]
    R = approx_error_coefficient(P.X, P.y[..., 0], P.x_q)
    om = np.asarray(omegas, float)
    err = np.array([(two_kernel(w, eta / (2 * w))(P)[:, 0] - ref).abs().mean().item() for w in om])
    return ApproxErrors(task.d, task.L, om, err, eta * np.abs(R).mean() * om**2, R)


def leading_term_deviation(task, omega: float, n_prompts: int, seed: int = 0) -> float:
    """median over prompts of |(ŷ_TF − ŷ_dGD(η)) / (η ω² R) − 1| at one small ω (η = η_eff):
    how well our leading term describes the error, prompt by prompt."""
    from .estimators import DebiasedGD, two_kernel

    P = task_prompts(task, n_prompts, seed)
    eta = theory.eta_eff(task.d, task.L, task.sigma2)
    R = approx_error_coefficient(P.X, P.y[..., 0], P.x_q)
    diff = (two_kernel(omega, eta / (2 * omega))(P) - DebiasedGD(eta)(P))[:, 0].numpy()
    return float(np.median(np.abs(diff / (eta * omega**2 * R) - 1)))
