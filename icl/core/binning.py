"""Log-spaced bins of steps: a training curve as means over bins, for a log axis."""

from __future__ import annotations

import numpy as np

__all__ = ["log_bin_edges", "log_binned"]


def log_bin_edges(n_steps: int, n_bins: int) -> np.ndarray:
    """Edges of `log_binned`'s bins over steps 1 … n_steps: bin i holds steps edges[i] … edges[i+1] − 1."""
    return np.unique(np.round(np.logspace(0, np.log10(n_steps + 1), n_bins + 1)).astype(int))


def log_binned(values, n_bins: int = 100):
    """Means of `values` (one per step, step 1 first) over log-spaced bins of steps, for a
    noisy training curve on a log axis: (bin centre steps, bin means)."""
    values = np.asarray(values, dtype=float)
    edges = log_bin_edges(len(values), n_bins)
    centres = np.sqrt(edges[:-1] * np.maximum(edges[1:] - 1, edges[:-1]))
    means = np.array([values[a - 1 : b - 1].mean() for a, b in zip(edges[:-1], edges[1:])])
    return centres, means
