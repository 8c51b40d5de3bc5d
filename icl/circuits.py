"""KQ and OV circuits, the paper's (ω_h, μ_h), and the pattern metrics of Observations 1–2.

Index convention (one place, used everywhere): for head h,

    kq[h] = W_h = s K_hᵀ Q_h ∈ R^{D×D},  kq[h][i, j] multiplies key coordinate i by query coordinate j;
    ov[h] = O_h V_h ∈ R^{D×D},            ov[h][d + t, :] = u_{h,t} writes the prediction of task t.

Coordinates 0..d-1 are x, d..d+T-1 are the y slots (0-based; the paper counts from 1).
Observation 1: kq[h][:d, :d] ≈ ω_h I_d, kq[h][d, :d] ≈ 0 (key-y row), ov[h][d, :d] ≈ 0 and
ov[h][d, d] = μ_h. The last column of kq multiplies the query's zero y-slot and is irrelevant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["HeadPattern", "extract", "structured_circuits", "sign_matching", "zero_sum_ratio", "dummy_heads", "effective_rate"]


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


@dataclass
class HeadPattern:
    """Per-head effective parameters and how well the pattern (3.1) holds. Shapes (..., H) for a
    single task; mu is (..., H, T) and omega_diag (..., H, d)."""

    omega: np.ndarray  # mean of diag(W_h[:d, :d])
    omega_diag: np.ndarray  # diag(W_h[:d, :d])
    mu: np.ndarray  # ov[h][d + t, d + t]; for T > 1 the whole T×T y-block is in mu_block
    mu_block: np.ndarray  # (..., H, T, T): ov[h][d:, d:]
    diag_spread: np.ndarray  # max - min of the diagonal
    offdiag_max: np.ndarray  # max |W_h[i, j]|, i ≠ j, i, j < d
    key_y_row: np.ndarray  # max |W_h[d:, :d]|
    ov_x_part: np.ndarray  # max |ov[h][d:, :d]|

    @property
    def heads(self) -> int:
        return self.omega.shape[-1]


def extract(kq, ov, d: int) -> HeadPattern:
    """Read (ω_h, μ_h) and the pattern metrics off circuits of shape (..., H, D, D)."""
    kq, ov = _np(kq), _np(ov)
    x = kq[..., :d, :d]
    diag = np.diagonal(x, axis1=-2, axis2=-1)
    off = np.abs(x - diag[..., :, None] * np.eye(d))
    T = kq.shape[-1] - d
    mu_block = ov[..., d:, d:]
    mu = np.diagonal(mu_block, axis1=-2, axis2=-1)  # (..., H, T)
    if T == 1:
        mu = mu[..., 0]
    return HeadPattern(
        omega=diag.mean(-1),
        omega_diag=diag,
        mu=mu,
        mu_block=mu_block,
        diag_spread=diag.max(-1) - diag.min(-1),
        offdiag_max=off.max(axis=(-2, -1)),
        key_y_row=np.abs(kq[..., d:, :d]).max(axis=(-2, -1)),
        ov_x_part=np.abs(ov[..., d:, :d]).max(axis=(-2, -1)),
    )


def structured_circuits(omega, mu, d: int):
    """Circuits in the exact pattern (3.1): kq[h] = ω_h I_d on the x-block, ov[h] = μ_h e_y on the
    y row, zeros elsewhere. omega, mu: (H,) → kq, ov: (H, d+1, d+1) float64 arrays."""
    omega, mu = np.atleast_1d(np.asarray(omega, float)), np.atleast_1d(np.asarray(mu, float))
    if omega.shape != mu.shape or omega.ndim != 1:
        raise ValueError(f"omega and mu must be 1-d arrays of equal length, got {omega.shape} and {mu.shape}")
    H, D = len(omega), d + 1
    kq, ov = np.zeros((H, D, D)), np.zeros((H, D, D))
    kq[:, np.arange(d), np.arange(d)] = omega[:, None]
    ov[:, d, d] = mu
    return kq, ov


def dummy_heads(omega, mu, rel: float = 0.1) -> np.ndarray:
    """Heads whose |ω_h μ_h| is below `rel` times the largest one's (bool, (..., H))."""
    w = np.abs(_np(omega) * _np(mu))
    return w < rel * w.max(axis=-1, keepdims=True)


def sign_matching(omega, mu, dummy=None) -> np.ndarray:
    """Fraction of non-dummy heads with sign ω_h = sign μ_h (..., )."""
    omega, mu = _np(omega), _np(mu)
    dummy = dummy_heads(omega, mu) if dummy is None else dummy
    ok = (np.sign(omega) == np.sign(mu)) | dummy
    return ok.mean(-1)


def zero_sum_ratio(mu) -> np.ndarray:
    """|Σ_h μ_h| / Σ_h |μ_h|: 0 for a perfectly zero-sum OV, 1 when all μ_h share a sign."""
    mu = _np(mu)
    return np.abs(mu.sum(-1)) / np.abs(mu).sum(-1)


def effective_rate(omega, mu) -> np.ndarray:
    """Σ_h ω_h μ_h, the step size of the debiased-GD predictor the heads implement (≈ η_eff)."""
    return (_np(omega) * _np(mu)).sum(-1)
