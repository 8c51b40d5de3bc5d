"""Chapter 08, §5.2: the f-models' heads over training, read off the published snapshots.

- `shared_start`: which models start from the same circuits (the engine derives a run's
  initialisation from its seed alone, so every f at one seed starts alike: one start, not one per f);
- `same_sign_onset`: from which snapshot a model's μ_h all share one sign (one effective head);
- `omega_rise_fall`: does the model's one KQ scale ω̂(t) (mean |ω_h| over its final non-dummy heads:
  §5.2 and Table 1 speak of one ω per model) rise to an interior peak and then fall (Fig. 10);
- `split_history`: how a model's |ω_h| drift apart from the snapshot where their spread starts to grow
  for good (the four-head relu models: two groups of heads at different scales, at constant training loss).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.circuits import head_groups, peak_drop, settled_index, zero_sum_ratio
from .activations import ONE_SIGN

__all__ = ["FAMILY", "shared_start", "same_sign_onset", "RiseFall", "omega_rise_fall", "Split", "split_history"]

# The paper's three families of f (§5.2: "three types of functions ... where b is a constant"), our reading.
FAMILY = {"relu": "relu", "relu_0.8": "relu", "square": "square", "square_0.8": "square", "sigmoid": "sigmoid"}


def shared_start(runs: dict, key) -> list:
    """The other models of `runs` (key → TrainedRun) whose step-0 circuits equal `key`'s exactly."""
    r0 = runs[key]
    return [
        k
        for k, r in runs.items()
        if k != key
        and r.snapshot_kq.shape[1:] == r0.snapshot_kq.shape[1:]
        and np.array_equal(r.snapshot_kq[0], r0.snapshot_kq[0])
        and np.array_equal(r.snapshot_ov[0], r0.snapshot_ov[0])
    ]


def same_sign_onset(run) -> int | None:
    """The snapshot step from which every μ_h of `run` shares one sign (zero-sum ratio above `ONE_SIGN`)
    at every later snapshot; None when they do not at the end."""
    i = int(settled_index(zero_sum_ratio(run.history().mu) > ONE_SIGN))
    return int(run.snapshot_steps[i]) if i >= 0 else None


@dataclass(frozen=True)
class RiseFall:
    """ω̂(t) of one model: the step and value of its peak, its final value, the fall 1 − final/peak and
    whether the peak is interior (neither the first nor the last snapshot)."""

    peak_step: int
    peak: float
    final: float
    fall: float
    interior: bool

    def holds(self, fall_tol: float) -> bool:
        """An interior peak and a fall of at least `fall_tol` from it."""
        return self.interior and self.fall >= fall_tol


def omega_rise_fall(run) -> RiseFall:
    """The rise and fall of ω̂(t) = mean over the final non-dummy heads of |ω_h(t)| (`peak_drop`)."""
    h = run.history()
    live = head_groups(h.omega[-1], h.mu[-1]) != 0  # (H,)
    w = np.abs(h.omega[:, live]).mean(1)  # (S,)
    i, fall = peak_drop(w)
    return RiseFall(int(run.snapshot_steps[i]), float(w[i]), float(w[-1]), fall, 0 < i < len(w) - 1)


@dataclass(frozen=True)
class Split:
    """|ω_h| from the snapshot where their spread max/min |ω_h| (over the final non-dummy heads) starts to
    grow at every snapshot to the end (`start`, after the pattern settled), and at the end; the spreads
    there, the number of snapshots of growth, and the training loss (log-binned means) nearest to both
    steps. omega0, omega1, mu1: (H,) signed, at the start and the end; groups: the final non-dummy heads
    split at the widest gap of log |ω_h|, the larger |ω_h| first, each a sorted tuple of head indices."""

    start: int
    end: int
    omega0: np.ndarray
    omega1: np.ndarray
    mu1: np.ndarray
    spread0: float
    spread1: float
    growing: int
    loss0: float
    loss1: float
    groups: tuple


def split_history(run, settled: int | None) -> Split:
    """`Split` of one run; settled: the step from which its ± pattern holds (None: from the first snapshot)."""
    h, steps = run.history(), np.asarray(run.snapshot_steps)
    live = head_groups(h.omega[-1], h.mu[-1]) != 0
    w = np.abs(h.omega[:, live])  # (S, H_live)
    spread = w.max(1) / np.maximum(w.min(1), 1e-300)  # (S,)
    first = 0 if settled is None else int(np.searchsorted(steps, settled))
    i = len(steps) - 1
    while i > first and spread[i - 1] <= spread[i]:
        i -= 1
    bins, losses = run.loss_curve()

    def loss_at(step):
        return float(losses[int(np.argmin(np.abs(np.log(bins / max(step, 1)))))])

    idx = np.flatnonzero(live)
    order = idx[np.argsort(np.abs(h.omega[-1, idx]))]
    logs = np.log(np.maximum(np.abs(h.omega[-1, order]), 1e-300))
    groups = (tuple(sorted(int(h) for h in order)),)
    if len(order) > 1 and np.max(np.diff(logs)) > 0:
        cut = int(np.argmax(np.diff(logs))) + 1
        groups = tuple(tuple(sorted(int(h) for h in part)) for part in (order[cut:], order[:cut]))
    return Split(
        int(steps[i]),
        int(steps[-1]),
        h.omega[i].copy(),
        h.omega[-1].copy(),
        h.mu[-1].copy(),
        float(spread[i]),
        float(spread[-1]),
        len(steps) - 1 - i,
        loss_at(steps[i]),
        loss_at(steps[-1]),
        groups,
    )
