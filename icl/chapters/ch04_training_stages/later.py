"""Chapter 04 after Stage I: whether ⟨ω, μ⟩ stays at η_eff once (4.3) is met, and whether the runs
that split then slide down the valley of S(ω) (ω falls, the OV weight rises), as §4.2–4.3 say.

Both read the recorded trajectories of `analysis.descend` (records log-spaced, so "every later
record" is a test at every scale of time, not at every step)."""

from __future__ import annotations

import numpy as np

from ...core import theory
from ...core.circuits import dummy_heads
from ...core.dynamics import pattern_metrics

__all__ = ["inner_after_stage1", "valley_slide", "zero_sum_at_stage1_end"]


def inner_after_stage1(results, d: int, L: int, sigma2: float, opt_tol: float):
    """Per run whose ⟨ω, μ⟩ ever reaches (1 − opt_tol) η_eff: the first record where it does ("first
    meets (4.3)"; unlike the end of Stage I, which is the first record from which it holds to the end),
    and from there to the end the largest fall of ⟨ω, μ⟩ below its running maximum ("largest fall
    back") and its largest excess over η_eff ("largest overshoot"), both in units of η_eff (0 when it
    only creeps up to η_eff). One row per such run (H, run)."""
    import pandas as pd

    eta, rows = theory.eta_eff(d, L, sigma2), []
    for H, x in results.items():
        tr = x.traj
        inner = np.einsum("srh,srh->sr", tr.omega, tr.mu) / eta  # (S, R)
        for r in range(inner.shape[1]):
            hit = np.flatnonzero(inner[:, r] >= 1 - opt_tol)
            if len(hit):
                after = inner[int(hit[0]) :, r]
                rows.append(
                    {
                        "H": H,
                        "run": r,
                        "first meets (4.3)": int(tr.steps[hit[0]]),
                        "largest fall back": float((np.maximum.accumulate(after) - after).max()),
                        "largest overshoot": float(max(0.0, (after - 1).max())),
                    }
                )
    return pd.DataFrame(rows, columns=["H", "run", "first meets (4.3)", "largest fall back", "largest overshoot"])


def valley_slide(results):
    """Per run that splits: from the later of the end of Stage I and the homogeneity step to the end,
    the largest relative rise of its scale ω (mean |ω_h| over its final non-dummy heads) and the
    largest relative fall of its positive heads' OV weight Σ₊ μ_h between consecutive records
    (0 each when ω only falls and the OV weight only rises). One row per such run (H, run)."""
    import pandas as pd

    rows = []
    for H, x in results.items():
        tr, t = x.traj, x.times
        for r in np.flatnonzero(x.split):
            start = max(int(t.stage1_end[r]), int(t.homogeneous[r]))
            sel = tr.steps >= start
            w, m = tr.omega[sel, r], tr.mu[sel, r]  # (S', H)
            live = ~dummy_heads(w[-1], m[-1])
            scale = np.abs(w[:, live]).mean(1)
            ov = np.where(w[-1] > 0, m, 0.0).sum(1)
            rows.append(
                {
                    "H": H,
                    "run": int(r),
                    "from step": start,
                    "largest rise of ω": float(max(0.0, (np.diff(scale) / scale[:-1]).max(initial=0.0))),
                    "largest fall of Σ₊μ_h": float(max(0.0, (-np.diff(ov) / ov[:-1]).max(initial=0.0))),
                }
            )
    cols = ["H", "run", "from step", "largest rise of ω", "largest fall of Σ₊μ_h"]
    return pd.DataFrame(rows, columns=cols)


def zero_sum_at_stage1_end(results) -> np.ndarray:
    """|Σ_h μ_h| / Σ_h |μ_h| at the end of Stage I of every run whose Stage I ends, in run order."""
    out = []
    for x in results.values():
        tr = x.traj
        for r, a in enumerate(x.times.stage1_end):
            if a >= 0:
                i = min(int(np.searchsorted(tr.steps, a)), len(tr.steps) - 1)
                out.append(float(pattern_metrics(tr.omega[i, r], tr.mu[i, r])[1]))
    return np.array(out)
