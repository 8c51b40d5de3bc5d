"""Chapter 10's pattern measures for §5.4's statements beyond the modes: the global pattern (5.8) per head,
the zero-sum OV per task, and Mode IV's (i)–(ii) (which heads write which task, with which sign).

All take one model's circuits (`Circuits`, or ω (H, d) and μ (H, T)) and return per-head or per-task numbers;
"live" heads are those `head_roles` does not call dummies (|ω_h|_∞ |μ_h|_∞ ≥ DUMMY_REL × the largest head's).
"""

from __future__ import annotations

import numpy as np

from .analysis import DUMMY_REL, Circuits

__all__ = ["live_heads", "pattern_residual", "zero_sum_per_task", "both_task_ratio", "signed_heads"]


def live_heads(omega, mu, dummy_rel: float = DUMMY_REL) -> np.ndarray:
    """(H,) bool: the heads that are not dummies, by `head_roles`' rule."""
    scale = np.abs(np.asarray(omega, float)).max(1) * np.abs(np.asarray(mu, float)).max(1)
    return scale >= dummy_rel * scale.max()


def pattern_residual(c: Circuits) -> np.ndarray:
    """(H,) how far each head is from the global pattern (5.8): the largest of its KQ x-block off-diagonal and
    key-y rows over max |ω_h|, and of its OV x-part over max |μ_h| (0 when the pattern holds exactly; the
    T × T y-block of OV is free in (5.8))."""
    w = np.abs(c.omega).max(1)
    return np.maximum(np.maximum(c.kq_offdiag, c.kq_key_y) / w, c.ov_x / np.abs(c.mu).max(1))


def zero_sum_per_task(mu) -> np.ndarray:
    """(T,) |Σ_h μ_{h,t}| / Σ_h |μ_{h,t}| for each task t (0: the OV writes of task t sum to zero)."""
    mu = np.asarray(mu, float)
    return np.abs(mu.sum(0)) / np.abs(mu).sum(0)


def both_task_ratio(mu) -> np.ndarray:
    """(H,) min_t |μ_{h,t}| / max_t |μ_{h,t}|: above `small` a head writes every task (`head_roles`' rule),
    near 0 it writes one task only."""
    a = np.abs(np.asarray(mu, float))
    return a.min(1) / a.max(1)


def signed_heads(omega, mu, small: float) -> np.ndarray:
    """(H,) +1 for a positive head, −1 for a negative one, 0 otherwise, in Mode IV (ii)'s sense ("μ_h and ω_h
    are negative"): the head writes every task (`both_task_ratio` > small) with μ of one sign, and no entry of
    ω_h has the other sign beyond small × max |ω_h| (an entry ≈ 0 is allowed: Table 2's head 2 has one)."""
    omega, mu = np.asarray(omega, float), np.asarray(mu, float)
    out = np.zeros(len(mu), dtype=int)
    for h in range(len(mu)):
        s = np.sign(mu[h, 0])
        one_sign = (np.sign(mu[h]) == s).all() and both_task_ratio(mu[h : h + 1])[0] > small
        if one_sign and (s * omega[h] >= -small * np.abs(omega[h]).max()).all():
            out[h] = int(s)
    return out
