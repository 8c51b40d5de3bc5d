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

__all__ = [
    "HeadPattern",
    "extract",
    "structured_circuits",
    "sign_matching",
    "zero_sum_ratio",
    "ONE_SIGN",
    "dummy_heads",
    "effective_rate",
    "head_groups",
    "omega_spread",
    "group_ov_x_part",
    "pattern_summary",
    "pattern_holds",
    "pattern_onset",
    "settled_index",
    "peak_drop",
    "largest_dip",
]


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

    def table(self):
        """One row per head (single model, single task): ω_h, μ_h and how far the pattern (3.1) is off."""
        import pandas as pd

        return pd.DataFrame(
            {
                "ω_h (mean diag)": self.omega,
                "μ_h": self.mu,
                "diag spread": self.diag_spread,
                "max |off-diag|": self.offdiag_max,
                "max |key-y row|": self.key_y_row,
                "max |OV x-part|": self.ov_x_part,
            },
            index=[f"head {h + 1}" for h in range(self.heads)],
        )


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


ONE_SIGN = 0.999  # a zero-sum ratio above this reads as "every μ_h at one sign" (the ratio is 1 exactly then)


def zero_sum_ratio(mu) -> np.ndarray:
    """|Σ_h μ_h| / Σ_h |μ_h|: 0 for a perfectly zero-sum OV, 1 when all μ_h share a sign."""
    mu = _np(mu)
    return np.abs(mu.sum(-1)) / np.maximum(np.abs(mu).sum(-1), 1e-300)


def effective_rate(omega, mu) -> np.ndarray:
    """Σ_h ω_h μ_h, the step size of the debiased-GD predictor the heads implement (≈ η_eff)."""
    return (_np(omega) * _np(mu)).sum(-1)


# --- Observations 1, 2 and 4 per model: head groups, relative pattern metrics, onset -----------


def head_groups(omega, mu, rel: float = 0.1) -> np.ndarray:
    """+1 (positive head: ω_h, μ_h > 0), −1 (negative) or 0 (dummy, see `dummy_heads`), (..., H).

    A non-dummy head whose ω_h and μ_h disagree in sign is grouped by the sign of ω_h (its KQ
    decides which kernel it computes); `sign_matching` is what flags it.
    """
    omega, mu = _np(omega), _np(mu)
    return np.where(dummy_heads(omega, mu, rel), 0, np.sign(omega)).astype(int)


def omega_spread(omega, groups) -> float:
    """Homogeneous KQ scaling: max |ω_h| / min |ω_h| − 1 over the non-dummy heads of one model
    (0 when every |ω_h| is equal; 0 for a model with one non-dummy head). omega, groups: (H,)."""
    w = np.abs(_np(omega))[np.asarray(groups) != 0]
    if w.size == 0:
        raise ValueError("groups must mark at least one non-dummy head")
    return float(w.max() / w.min() - 1.0)


def group_ov_x_part(ov, groups, d: int) -> np.ndarray:
    """max |Σ_{h ∈ g} ov[h][d, :d]| for the positive (g = +1) and negative (g = −1) group, (2,).

    Heads of one group share the same attention weights once |ω_h| is homogeneous, so only the
    group's summed x-part reaches the prediction; how it is split between the group's heads is a
    flat direction of the loss. ov: (H, D, D); an empty group gives 0.
    """
    ov, groups = _np(ov), np.asarray(groups)
    x_rows = ov[:, d, :d]  # (H, d): the y row's x-part
    return np.array([np.abs(x_rows[groups == g].sum(0)).max(initial=0.0) for g in (+1, -1)])


def pattern_summary(kq, ov, d: int, rel: float = 0.1) -> dict:
    """One model's Observation 1–2 numbers from its circuits kq, ov: (H, D, D).

    Relative metrics are per non-dummy head and then the worst head: diagonal spread, largest
    off-diagonal entry and key-y row over |ω_h|; OV x-part over |μ_h|. Also the group sizes and
    sums, Σ_h μ_h, the zero-sum ratio and Σ_h ω_h μ_h. A model without any non-dummy head
    raises ValueError, as do non-finite circuits.
    """
    if not (np.isfinite(_np(kq)).all() and np.isfinite(_np(ov)).all()):
        raise ValueError("kq and ov must be finite (a diverged model has no pattern to read)")
    p = extract(kq, ov, d)
    g = head_groups(p.omega, p.mu, rel)
    live = g != 0
    if not live.any() or not (np.abs(p.omega[live]) > 0).all():
        raise ValueError("kq/ov have no non-dummy head with ω_h ≠ 0")
    w, m = np.abs(p.omega[live]), np.abs(p.mu[live])
    return {
        "heads": p.heads,
        "n_pos": int((g > 0).sum()),
        "n_neg": int((g < 0).sum()),
        "n_dummy": int((g == 0).sum()),
        "omega_pos": float(p.omega[g > 0].mean()) if (g > 0).any() else np.nan,
        "omega_neg": float(p.omega[g < 0].mean()) if (g < 0).any() else np.nan,
        "mu_pos": float(p.mu[g > 0].sum()),
        "mu_neg": float(p.mu[g < 0].sum()),
        "sum_mu": float(p.mu.sum()),
        "zero_sum": float(zero_sum_ratio(p.mu)),
        "sign_match": float(sign_matching(p.omega, p.mu, ~live)),
        "omega_spread": omega_spread(p.omega, g),
        "rel_diag_spread": float((p.diag_spread[live] / w).max()),
        "rel_offdiag": float((p.offdiag_max[live] / w).max()),
        "rel_key_y": float((p.key_y_row[live] / w).max()),
        "rel_ov_x": float((p.ov_x_part[live] / m).max()),
        "rel_group_ov_x": float(group_ov_x_part(ov, g, d).max() / np.abs(p.mu[live]).max()),
        "eta": float(effective_rate(p.omega, p.mu)),
    }


def pattern_holds(omega, mu, zero_sum_tol: float = 0.05, rel: float = 0.1) -> np.ndarray:
    """Whether sign matching (every non-dummy head) and zero-sum OV (ratio ≤ zero_sum_tol) both
    hold, for (..., H) effective parameters → bool (...)."""
    omega, mu = _np(omega), _np(mu)
    return (sign_matching(omega, mu, dummy_heads(omega, mu, rel)) == 1.0) & (zero_sum_ratio(mu) <= zero_sum_tol)


def pattern_onset(steps, omega, mu, zero_sum_tol: float = 0.05, rel: float = 0.1) -> tuple[int | None, int | None]:
    """When the Observation 1–2 pattern appears along a training run (Observation 4).

    steps: (S,) snapshot steps; omega, mu: (S, H). Returns (first, settled): the first snapshot
    step at which `pattern_holds`, and the first step from which it holds at every later
    snapshot (the pattern "appears and is preserved" from there on). Either is None when there is
    no such step (settled is None whenever the pattern fails at the last snapshot).
    """
    steps = np.asarray(steps)
    ok = pattern_holds(omega, mu, zero_sum_tol, rel)
    if ok.shape != steps.shape:
        raise ValueError(f"steps must have one entry per snapshot ({ok.shape[0]}), got shape {steps.shape}")
    first = int(steps[np.argmax(ok)]) if ok.any() else None
    i = int(settled_index(ok))
    return first, (int(steps[i]) if i >= 0 else None)


def settled_index(ok) -> np.ndarray:
    """ok: (S, ...) booleans over S records → index (...) of the first record from which ok holds
    at every later record; −1 where ok fails at the last record."""
    bad = ~np.asarray(ok, dtype=bool)
    S = bad.shape[0]
    after_last_bad = S - np.argmax(bad[::-1], axis=0)  # S when only the last record fails
    idx = np.where(bad.any(0), after_last_bad, 0)
    return np.where(idx < S, idx, -1)


def peak_drop(values) -> tuple[int, float]:
    """For a trajectory of magnitudes (S,): (index of the peak, 1 − final / peak).
    A rise-then-fall has an interior peak and a positive drop."""
    v = np.abs(_np(values))
    i = int(np.argmax(v))
    return i, float(1.0 - v[-1] / v[i])


def largest_dip(values) -> float:
    """How far a trajectory of magnitudes (S,) ever falls below its running maximum, relative to its
    final value: max_t (max_{s ≤ t} |v_s| − |v_t|) / |v_S|. 0 for a non-decreasing trajectory."""
    v = np.abs(_np(values))
    return float((np.maximum.accumulate(v) - v).max() / v[-1])
