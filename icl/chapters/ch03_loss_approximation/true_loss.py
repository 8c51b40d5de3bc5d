"""The true ICL loss of the structured two-head model and the softmax-vector norms (§4.1, App. A.4).

The structured two-head model has heads (ω, μ) and (−ω, −μ) in the pattern (3.1), so

    ŷ = μ · k_ω,   k_ω = Σ_l y_l [softmax(ω X x_q)_l − softmax(−ω X x_q)_l]             (4.9)

and its true loss is quadratic in μ:  R(ω, μ) = μ² E k_ω² − 2μ E[k_ω βᵀx_q] + E(βᵀx_q)² + σ².
`true_loss_grid` estimates these moments by Monte Carlo on one set of prompts for every ω
(common random numbers, so the landscape is smooth in ω) and evaluates the whole μ-grid in
closed form, with a standard error per grid point. The target's own noise ε_q is integrated out
exactly (it adds σ²), which removes a variance term without changing the mean.

`softmax_sq_norms` samples ‖softmax(ω X x_q)‖², the quantity whose smallness (≈ e^{dω²}/L) drives
Prop. 4.1 (Fig. 20).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ...core import theory
from ...core.data import TaskConfig, sample_prompts

__all__ = [
    "LossGrid",
    "TwoKernelSample",
    "two_kernel_sample",
    "true_loss_grid",
    "approx_loss_two_head",
    "softmax_sq_norms",
]


@dataclass
class LossGrid:
    """A loss landscape. omega: (n_ω,), mu: (n_μ,), mean and se: (n_ω, n_μ); se = 0 for exact values."""

    omega: np.ndarray
    mu: np.ndarray
    mean: np.ndarray
    se: np.ndarray
    n_prompts: int = 0


def _check_n(name, n, low=2):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {n!r}")


@dataclass
class TwoKernelSample:
    """Monte Carlo sample of the two-head model's kernel output on shared prompts.

    omega: (n_ω,); k: (n_ω, n) the values k_ω per prompt; f: (n,) the noiseless targets βᵀx_q;
    sigma2: the label noise, added exactly to every loss.
    """

    omega: np.ndarray
    k: np.ndarray
    f: np.ndarray
    sigma2: float

    @property
    def n(self) -> int:
        return self.f.shape[0]

    def loss_grid(self, mus) -> LossGrid:
        """R(ω, μ) = E(μ k_ω − f)² + σ² on omega × mus, with standard errors over prompts."""
        mus = np.atleast_1d(np.asarray(mus, dtype=float))
        if mus.ndim != 1 or not np.all(np.isfinite(mus)):
            raise ValueError(f"mus must be a finite 1-d array, got shape {mus.shape}")
        k, f = self.k, self.f
        # moments E k^a f^b, a + b ≤ 4, per ω: enough for the mean and the variance of (μk − f)²
        mom = {(a, b): (k**a * f**b).mean(1)[:, None] for a in range(5) for b in range(5 - a)}
        m = mus[None, :]
        e2 = m**2 * mom[2, 0] - 2 * m * mom[1, 1] + mom[0, 2]
        e4 = m**4 * mom[4, 0] - 4 * m**3 * mom[3, 1] + 6 * m**2 * mom[2, 2] - 4 * m * mom[1, 3] + mom[0, 4]
        var = np.maximum(e4 - e2**2, 0.0)
        return LossGrid(omega=self.omega, mu=mus, mean=e2 + self.sigma2, se=np.sqrt(var / self.n), n_prompts=self.n)

    def losses_at(self, mu_per_omega) -> np.ndarray:
        """Per-prompt losses (μ_j k_{ω_j} − f)² + σ² with one μ_j per ω_j: (n_ω, n), for paired comparisons."""
        m = np.asarray(mu_per_omega, dtype=float).reshape(-1)
        if m.shape != self.omega.shape:
            raise ValueError(f"mu_per_omega must have one entry per omega ({self.omega.shape[0]}), got {m.shape[0]}")
        return (m[:, None] * self.k - self.f[None, :]) ** 2 + self.sigma2

    def mu_star(self) -> np.ndarray:
        """argmin_μ R(ω, μ) = E[k_ω f] / E[k_ω²] per ω (the true loss's valley), (n_ω,)."""
        return (self.k * self.f).mean(1) / (self.k**2).mean(1)

    def mu_star_se(self) -> np.ndarray:
        """Standard error of `mu_star` over prompts (delta method for the ratio of two means), (n_ω,)."""
        r, b = self.mu_star(), (self.k**2).mean(1)
        influence = (self.k * self.f - r[:, None] * self.k**2) / b[:, None]  # (n_ω, n)
        return influence.std(1) / np.sqrt(self.n)

    def valley(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(μ*(ω), R(ω, μ*(ω)), its standard error) along the true loss's valley."""
        ms = self.mu_star()
        grid = self.loss_grid(ms)  # (n_ω, n_ω): ω_i at μ*(ω_j); the valley is its diagonal (moments computed once)
        return ms, np.diagonal(grid.mean).copy(), np.diagonal(grid.se).copy()


def two_kernel_sample(
    omegas, task: TaskConfig, n_prompts: int, *, seed: int = 0, batch: int = 10_000, device="cpu"
) -> TwoKernelSample:
    """k_ω for every ω and prompt, and the noiseless targets f = βᵀx_q, on shared prompts.

    Single-task prompts from `task` (any covariance); computed in float64 on `device`.
    """
    omegas = np.atleast_1d(np.asarray(omegas, dtype=float))
    if omegas.ndim != 1 or not np.all(np.isfinite(omegas)):
        raise ValueError(f"omegas must be a finite 1-d array, got shape {omegas.shape}")
    if task.n_tasks != 1:
        raise ValueError(f"task must be single-task, got n_tasks = {task.n_tasks}")
    _check_n("n_prompts", n_prompts)
    _check_n("batch", batch, 1)
    g = torch.Generator(device=device).manual_seed(seed)
    w = torch.as_tensor(omegas, dtype=torch.float64, device=device)[:, None, None]  # (n_ω, 1, 1)
    ks, fs = [], []
    left = n_prompts
    while left > 0:
        P = sample_prompts(task, min(batch, left), g, dtype=torch.float64)
        left -= len(P)
        s = torch.einsum("bld,bd->bl", P.X, P.x_q)  # (B, L): x_lᵀ x_q
        y = P.y[..., 0]  # (B, L)
        k = ((torch.softmax(w * s, -1) - torch.softmax(-w * s, -1)) * y).sum(-1)  # (n_ω, B)
        ks.append(k.cpu())
        fs.append(torch.einsum("bd,bd->b", P.x_q, P.beta[..., 0]).cpu())  # βᵀx_q
    return TwoKernelSample(omegas, torch.cat(ks, 1).numpy(), torch.cat(fs).numpy(), float(task.sigma2))


def true_loss_grid(
    omegas, mus, task: TaskConfig, n_prompts: int, *, seed: int = 0, batch: int = 10_000, device="cpu"
) -> LossGrid:
    """Monte Carlo true ICL loss R(ω, μ) = E(μ k_ω − y_q)² of the structured two-head model on the
    grid omegas × mus, from `n_prompts` prompts shared by all grid points."""
    mus = np.atleast_1d(np.asarray(mus, dtype=float))
    if mus.ndim != 1 or not np.all(np.isfinite(mus)):
        raise ValueError(f"mus must be a finite 1-d array, got shape {mus.shape}")
    return two_kernel_sample(omegas, task, n_prompts, seed=seed, batch=batch, device=device).loss_grid(mus)


def approx_loss_two_head(omegas, mus, d: int, L: int, sigma2: float) -> LossGrid:
    """L̃ (4.1) at ω = (ω, −ω), μ = (μ, −μ) on the grid: 1 + σ² − 4ωμ + 4μ²(ω² + c sinh(dω²))."""
    w, m = np.atleast_1d(np.asarray(omegas, float)), np.atleast_1d(np.asarray(mus, float))
    W, M = (a.reshape(-1) for a in np.meshgrid(w, m, indexing="ij"))  # one run per grid point
    val = theory.approx_loss_and_grad(np.stack([W, -W], 1), np.stack([M, -M], 1), d, L, sigma2)[0]
    val = val.reshape(len(w), len(m))
    return LossGrid(omega=w, mu=m, mean=val, se=np.zeros_like(val))


def softmax_sq_norms(omega: float, d: int, L: int, n_prompts: int, *, seed: int = 0, batch: int = 2_000, device="cpu"):
    """Samples of ‖softmax(ω X x_q)‖² (x_l, x_q ~ N(0, I_d), L keys) and of ‖x_q‖².

    Returns (norms (n,), xq_sq (n,)). For fixed x_q, L‖p‖² → exp(ω²‖x_q‖²) as L → ∞, whose typical
    value is the paper's e^{dω²}.
    """
    norms, rq = _sq_norms((omega,), d, L, n_prompts, seed=seed, batch=batch, device=device)
    return norms[0], rq


def _sq_norms(omegas, d: int, L: int, n_prompts: int, *, seed: int, batch: int, device):
    """`softmax_sq_norms` for several ω on the same prompts: ([norms (n,) per ω], xq_sq (n,))."""
    for omega in omegas:
        if not (isinstance(omega, (int, float)) and math.isfinite(omega)):
            raise ValueError(f"omega must be a finite number, got {omega!r}")
    _check_n("d", d, 1)
    _check_n("L", L, 1)
    _check_n("n_prompts", n_prompts, 1)
    g = torch.Generator(device=device).manual_seed(seed)
    out, rq = [[] for _ in omegas], []
    left = n_prompts
    while left > 0:
        b = min(batch, left)
        left -= b
        X = torch.randn(b, L, d, generator=g, device=device, dtype=torch.float64)
        xq = torch.randn(b, d, generator=g, device=device, dtype=torch.float64)
        scores = torch.einsum("bld,bd->bl", X, xq)  # (b, L)
        for o, omega in zip(out, omegas):
            o.append((torch.softmax(omega * scores, -1) ** 2).sum(-1).cpu())
        rq.append((xq**2).sum(-1).cpu())
    return [torch.cat(o).numpy() for o in out], torch.cat(rq).numpy()
