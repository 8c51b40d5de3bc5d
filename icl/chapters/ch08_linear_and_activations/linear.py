"""Chapter 08, §5.1: length generalisation, linear attention read as GD, and the (5.2) construction.

Length generalisation. Every risk curve is a Monte Carlo over prompts drawn once at the longest
test length; a shorter L' uses the first L' examples of the same prompts (same β, query and noise),
so neighbouring points of a curve are strongly correlated and their difference is precise.

Linear attention read as GD (ours). A linear model with fixed normaliser n predicts, in its terms
linear in the labels, ŷ = (1/n) Σ_l y_l x_lᵀ Γ x_q with Γ = Σ_h (μ_h A_h + v_h w_hᵀ) (`linear_gamma`):
vanilla GD with rate η̂ = tr Γ / d if Γ ≈ η̂ I, at the training length n = L. At a test length L' it is GD
with rate η̂ L'/n, whose exact risk (`theory.gd_risk`) is lowest at L' = n/η̂ − (d + 1 + dσ²)/2.

(5.2), ours in detail. A pair of softmax heads (εW, c u) and (−εW, −c u) gives
c Σ_l (u·z_l)(p_l(ε) − p_l(−ε)); p(ε) − p(−ε) is odd in ε, = (2ε/L)(s_l − s̄) + O(ε³), so with
c = L/(2εn) the pair equals linear attention minus the second term (L/n)(uᵀz̄)(z̄ᵀWz_q) up to O(ε²):
linear attention itself on centred tokens (z̄ = 0), and on prompts as they come a difference of the
size of z̄, which ICL regression makes small (z̄ = O(1/√L)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ...core import theory
from ...core.data import Prompts, TaskConfig, sample_prompts
from ...core.engine import one_thread
from ...core.estimators import Predictor
from ...core.models import AttentionModel, ModelConfig

__all__ = [
    "test_lengths",
    "LengthCurves",
    "risk_vs_length",
    "prefix",
    "OptimalGD",
    "nonincreasing_excess",
    "linear_gamma",
    "linear_rate",
    "linear_gd_residual",
    "linear_risk_at",
    "linear_best_length",
    "softmax_pair_from_linear",
    "construction_errors",
    "construction_risks",
]

# --- length generalisation ---------------------------------------------------------------


def test_lengths(L: int, factors, low: int = 5) -> np.ndarray:
    """Test lengths L' = round(L·f) for the given factors, and `low`; sorted, without repeats."""
    ls = {int(low)} | {max(1, int(round(L * f))) for f in factors}
    return np.array(sorted(ls))


@dataclass
class LengthCurves:
    """Risks against the test length on common (prefix) prompts. lengths: (K,); errors: id → (N, K)
    per-prompt squared errors (averaged over tasks)."""

    lengths: np.ndarray
    errors: dict = field(default_factory=dict)

    def mean(self, key) -> np.ndarray:
        return self.errors[key].mean(0)

    def se(self, key) -> np.ndarray:
        e = self.errors[key]
        return e.std(0, ddof=1) / math.sqrt(e.shape[0])

    def at(self, key, L: int) -> tuple[float, float]:
        k = int(np.flatnonzero(self.lengths == L)[0])
        return float(self.mean(key)[k]), float(self.se(key)[k])

    def diff_se(self, key, i: int, j: int) -> float:
        """Standard error of mean(L'_i) − mean(L'_j) (paired over prompts)."""
        e = self.errors[key]
        return float((e[:, i] - e[:, j]).std(ddof=1) / math.sqrt(e.shape[0]))

    def curves(self, keys=None, names=None) -> dict:
        """name → (means, s.e.) for `icl.book.plotting.plot_risk_curves`."""
        keys = list(self.errors) if keys is None else keys
        names = names or {}
        return {names.get(k, str(k)): (self.mean(k), self.se(k)) for k in keys}


def risk_vs_length(
    predictors: dict,
    task: TaskConfig,
    lengths,
    n_prompts: int,
    *,
    seed: int = 0,
    dtype=torch.float32,
    batch: int = 1000,
) -> LengthCurves:
    """Monte Carlo risk of every predictor (id → `Predictor`) at every test length, on prompts
    drawn at max(lengths) whose first L' examples make the prompt of length L'."""
    lengths = np.asarray(lengths, int)
    g = torch.Generator().manual_seed(seed)
    errs = {k: [] for k in predictors}
    left = n_prompts
    with one_thread():
        while left > 0:
            P = sample_prompts(task, min(batch, left), g, L=int(lengths.max()), dtype=dtype)
            left -= len(P)
            for k, f in predictors.items():
                cols = [((f(prefix(P, int(Lp))) - P.y_q) ** 2).mean(-1) for Lp in lengths]
                errs[k].append(torch.stack(cols, 1).double().numpy())
    return LengthCurves(lengths, {k: np.concatenate(v) for k, v in errs.items()})


def prefix(P: Prompts, L: int) -> Prompts:
    """The prompts with only their first L context examples."""
    return Prompts(Z=P.Z[:, :L], x_q=P.x_q, y_q=P.y_q, beta=P.beta)


@dataclass
class OptimalGD(Predictor):
    """Vanilla GD with the rate η*(L') = L'/(L' + d(1 + σ²) + 1) that is optimal at the prompt's length."""

    sigma2: float
    name: str = "vanilla GD at η*(L')"

    def __call__(self, P: Prompts) -> torch.Tensor:
        X, y = P.X, P.y
        L, d = X.shape[1], X.shape[2]
        eta = theory.gd_optimal_eta(d, L, self.sigma2)
        return eta / L * torch.einsum("blt,bld,bd->bt", y, X, P.x_q)


def nonincreasing_excess(curves: LengthCurves, key) -> float:
    """Largest rise of the risk from one test length to the next, in standard errors of the paired
    difference (≤ 0: the curve never rises)."""
    m = curves.mean(key)
    return max((m[i + 1] - m[i]) / curves.diff_se(key, i + 1, i) for i in range(len(m) - 1))


# --- linear attention read as GD ----------------------------------------------------------


def linear_gamma(kq, ov, d: int) -> np.ndarray:
    """Γ = Σ_h (μ_h A_h + v_h w_hᵀ), the matrix of the terms y_l x_lᵀ Γ x_q of a linear model (single
    task): A_h = W_h[:d, :d], w_h = W_h[d, :d] (the key-y row), μ_h = OV_h[d, d], v_h = OV_h[d, :d]
    (the OV x-part). (..., H, D, D) → (..., d, d)."""
    kq, ov = np.asarray(kq, float), np.asarray(ov, float)
    return np.einsum("...h,...hij->...ij", ov[..., d, d], kq[..., :d, :d]) + np.einsum(
        "...hi,...hj->...ij", ov[..., d, :d], kq[..., d, :d]
    )


def linear_rate(kq, ov, d: int, L: int, n: int) -> np.ndarray:
    """The GD rate η̂ = (L/n) tr Γ / d the linear model applies at length L (n: its fixed normaliser)."""
    G = linear_gamma(kq, ov, d)
    return np.trace(G, axis1=-2, axis2=-1) / d * (L / n)


def linear_gd_residual(kq, ov, d: int) -> np.ndarray:
    """‖Γ − η̂ I‖_F / ‖η̂ I‖_F: how far Γ is from a multiple of the identity (0: exactly vanilla GD)."""
    G = linear_gamma(kq, ov, d)
    eta = np.trace(G, axis1=-2, axis2=-1) / d
    return np.linalg.norm(G - eta[..., None, None] * np.eye(d), axis=(-2, -1)) / (np.abs(eta) * math.sqrt(d))


def linear_risk_at(eta_hat: float, n: int, lengths, d: int, sigma2: float) -> np.ndarray:
    """Exact risk at each test length L' of vanilla GD with rate η̂ L'/n: the linear model as GD."""
    lengths = np.asarray(lengths, float)
    return theory.gd_risk(eta_hat * lengths / n, d, lengths, sigma2)


def linear_best_length(eta_hat: float, n: int, d: int, sigma2: float) -> float:
    """The L' minimising `linear_risk_at`: n/η̂ − (d + 1 + dσ²)/2 (ours; L + d(1 + σ²)/2 + ½ at η̂ = η*)."""
    return n / eta_hat - (d + 1 + d * sigma2) / 2


# --- (5.2): 2H softmax heads from H linear heads -----------------------------------------


def softmax_pair_from_linear(kq, ov, eps: float, L: int, n: int):
    """Circuits of the 2H-head softmax model of (5.2): heads (εW_h, c·OV_h) and (−εW_h, −c·OV_h),
    c = L/(2εn). kq, ov: (H, D, D) → (2H, D, D) each."""
    kq, ov = torch.as_tensor(kq, dtype=torch.float64), torch.as_tensor(ov, dtype=torch.float64)
    c = L / (2 * eps * n)
    return torch.cat([eps * kq, -eps * kq]), torch.cat([c * ov, -c * ov])


def construction_errors(
    kq, ov, d: int, task: TaskConfig, n: int, eps_grid, n_prompts: int, seed: int = 0, *, centred: bool = True
):
    """Relative RMS difference between the (5.2) softmax model and the linear model (normaliser n)
    on prompts of the task's length, for each ε (float64). centred: tokens z_l − z̄ (the second term
    of (5.2) vanishes, the difference is O(ε²)); False: the prompts as the models see them."""
    return _construction(kq, ov, d, task, n, eps_grid, n_prompts, seed, centred)[0]


def construction_risks(kq, ov, d: int, task: TaskConfig, n: int, eps: float, n_prompts: int, seed: int = 0):
    """ICL risks of the linear model and of its (5.2) softmax model at one ε on the prompts as they come
    (not centred), and the standard error of their paired difference: (linear, softmax, s.e.)."""
    _, e_lin, e_soft = _construction(kq, ov, d, task, n, [eps], n_prompts, seed, False)
    diff = e_soft[0] - e_lin
    return float(e_lin.mean()), float(e_soft[0].mean()), float(diff.std(ddof=1) / math.sqrt(len(diff)))


def _construction(kq, ov, d, task, n, eps_grid, n_prompts, seed, centred):
    """(relative RMS differences per ε, the linear model's per-prompt squared errors (B,), the softmax
    model's per ε (len(eps), B))."""
    H = np.asarray(kq).shape[0]
    P = sample_prompts(task, n_prompts, torch.Generator().manual_seed(seed), dtype=torch.float64)
    Z = (P.Z - P.Z.mean(1, keepdim=True) if centred else P.Z)[None]  # (1, B, L, D)
    xq = P.x_q[None]
    lin = AttentionModel.from_circuits(
        torch.as_tensor(kq, dtype=torch.float64),
        torch.as_tensor(ov, dtype=torch.float64),
        d,
        ModelConfig(heads=H, normalisation="linear", linear_n=n),
    )
    with torch.no_grad(), one_thread():
        y_lin = lin(Z, xq)  # (1, B, 1)
        errs, sq = [], []
        for eps in eps_grid:
            kq2, ov2 = softmax_pair_from_linear(kq, ov, eps, task.L, n)
            y_soft = AttentionModel.from_circuits(kq2, ov2, d, ModelConfig(heads=2 * H))(Z, xq)
            errs.append(float(((y_soft - y_lin) ** 2).mean().sqrt() / (y_lin**2).mean().sqrt()))
            sq.append(((y_soft[0] - P.y_q) ** 2).mean(-1).numpy())
    return np.array(errs), ((y_lin[0] - P.y_q) ** 2).mean(-1).numpy(), np.array(sq)
