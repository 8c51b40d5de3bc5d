"""Chapter 08, §5.2: the normalised activations f, their names, and the general-f approximate loss (ours).

For softmax_f(v)_i = f(v_i)/Σ_j f(v_j), replace the denominator by its mean L·E f(ωs), s = xᵀx_q ~
N(0, d) (the paper's ‖x_q‖² ≈ d). Stein's lemma gives the mean response of a head to the signal,
g(ω) = ω E f′(ωs)/E f(ωs), and the variance term becomes c K(ω, ω′) with
K(ω, ω′) = E f(ωs) f(ω′s) / (E f(ωs) E f(ω′s)) (for exp: e^{dωω′}, the paper's exp(dωωᵀ)). On the
two-head manifold ω_{1,2} = ±ω, μ_{1,2} = ±μ:

    L̃_f = 1 + σ² − 2μG + μ²(G² + V),   G = 2g(ω),   V = 2c (K(ω, ω) − K(ω, −ω)),

so μ*_f(ω) = G/(G² + V) (for exp: (4.6)), the model is debiased GD with rate μ*G = G²/(G² + V)
(→ η_eff as ω → 0 for every f), and the first-order reading 2aωμ of Table 1 is
2aω μ*_f(ω) = (μ*G) · a E f(ωs)/E f′(ωs): exactly the rate for exp, larger for f whose slope
falls off (square, sigmoid) at the trained ω.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ...core import theory
from ...core.circuits import ONE_SIGN  # re-exported: the chapter's modules read it here
from ...core.data import TaskConfig, sample_prompts
from ...core.engine import one_thread
from ...core.models import ACTIVATIONS, Activation

__all__ = [
    "NAMES",
    "model_name",
    "ONE_SIGN",
    "activation_of",
    "f_moments",
    "signal_gain",
    "variance_term",
    "manifold_mu_f",
    "rate_first_order_target",
    "rate_true",
    "mu_star_mc",
    "best_scale_mc",
]

NAMES = {
    "softmax": "exp (softmax)",
    "linear": "linear",
    "relu": "relu(1 + s)",
    "relu_0.8": "relu(1 + 0.8 s)",
    "square": "(1 + s)²",
    "square_0.8": "(1 + 0.8 s)²",
    "sigmoid": "σ(s)",
}


def model_name(key) -> str:
    """('relu', 2, 0) → 'relu(1 + s), H = 2, seed 0'."""
    n, H, s = key
    return f"{NAMES.get(n, n)}, H = {H}, seed {s}"


# --- normalised activations: the general-f approximate loss (ours) -----------------------

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(120)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def activation_of(normalisation: str) -> Activation:
    """The f of a normalisation: exp for softmax, else `models.ACTIVATIONS`."""
    return Activation("exp", 1.0) if normalisation == "softmax" else ACTIVATIONS[normalisation]


def _mean(fn, omega, d):
    s = torch.as_tensor(math.sqrt(d) * _NODES, dtype=torch.float64)
    w = torch.as_tensor(_WEIGHTS, dtype=torch.float64)
    return float((fn(omega * s) * w).sum())


def f_moments(act: Activation, omega: float, d: int) -> dict:
    """E f(ωs), E f′(ωs), E f(ωs)², E f(ωs)f(−ωs) for s ~ N(0, d) (Gauss–Hermite quadrature)."""
    return {
        "f": _mean(act.f, omega, d),
        "df": _mean(act.df, omega, d),
        "ff": _mean(lambda u: act.f(u) ** 2, omega, d),
        "fmf": _mean(lambda u: act.f(u) * act.f(-u), omega, d),
    }


def signal_gain(act: Activation, omega: float, d: int) -> float:
    """G = 2ω E f′(ωs)/E f(ωs): the two heads' mean response to the signal per unit μ."""
    m = f_moments(act, omega, d)
    return 2 * omega * m["df"] / m["f"]


def variance_term(act: Activation, omega: float, d: int, L: int, sigma2: float) -> float:
    """V = 2c (K(ω, ω) − K(ω, −ω)), K(ω, ω′) = E f(ωs)f(ω′s)/(E f(ωs) E f(ω′s)), c = (1 + σ²)/L."""
    m = f_moments(act, omega, d)
    m_minus = _mean(act.f, -omega, d)
    return 2 * theory.c(L, sigma2) * (m["ff"] / m["f"] ** 2 - m["fmf"] / (m["f"] * m_minus))


def manifold_mu_f(act: Activation, omega: float, d: int, L: int, sigma2: float) -> float:
    """μ*_f(ω) = G/(G² + V): the best μ at fixed ω on the two-head manifold (for exp: (4.6))."""
    G, V = signal_gain(act, omega, d), variance_term(act, omega, d, L, sigma2)
    return G / (G**2 + V)


def rate_true(act: Activation, omega: float, d: int, L: int, sigma2: float) -> float:
    """The debiased-GD rate the model implements at (ω, μ*_f(ω)): G²/(G² + V) (→ η_eff as ω → 0)."""
    G, V = signal_gain(act, omega, d), variance_term(act, omega, d, L, sigma2)
    return G**2 / (G**2 + V)


def rate_first_order_target(act: Activation, omega: float, d: int, L: int, sigma2: float) -> float:
    """What Table 1's first-order rate 2aωμ should read at the trained ω: 2aω μ*_f(ω)."""
    return 2 * act.a * omega * manifold_mu_f(act, omega, d, L, sigma2)


def mu_star_mc(
    act: Activation, omega: float, task: TaskConfig, n_prompts: int, seed: int = 0, batch: int = 10_000
) -> tuple[float, float]:
    """The exact best μ of the two-head f-predictor μ Σ_l y_l (softmax_f(ωs)_l − softmax_f(−ωs)_l)
    at fixed ω: E[h y_q]/E[h²] by Monte Carlo over prompts of the task, and its standard error (delta method)."""
    return best_scale_mc(act, [omega, -omega], [1.0, -1.0], task, n_prompts, seed, batch)


def best_scale_mc(
    act: Activation, omega, mu, task: TaskConfig, n_prompts: int, seed: int = 0, batch: int = 10_000
) -> tuple[float, float]:
    """The exact best scale λ of the f-kernel sum λ Σ_h μ_h Σ_l y_l softmax_f(ω_h s)_l (the pattern (3.1)
    read off a model) at fixed ω_h and μ-ratios: E[h y_q]/E[h²] by Monte Carlo, and its standard error."""
    omega, mu = np.asarray(omega, float), np.asarray(mu, float)
    g = torch.Generator().manual_seed(seed)
    hs, ys = [], []
    left = n_prompts
    with one_thread():
        while left > 0:
            P = sample_prompts(task, min(batch, left), g, dtype=torch.float64)
            left -= len(P)
            s = torch.einsum("bld,bd->bl", P.X, P.x_q)
            p = sum(m * (f / f.sum(1, keepdim=True)) for w, m in zip(omega, mu) for f in [act.f(w * s)])
            hs.append((P.y[..., 0] * p).sum(1))
            ys.append(P.y_q[:, 0])
    h, y = torch.cat(hs).numpy(), torch.cat(ys).numpy()
    a, b = (h * y).mean(), (h * h).mean()
    infl = (h * y - a) / b - a * (h * h - b) / b**2  # influence function of a/b
    return float(a / b), float(infl.std(ddof=1) / math.sqrt(len(h)))
