"""Fits used by several chapters."""

from __future__ import annotations

import numpy as np

__all__ = ["loglog_slope"]


def loglog_slope(x, y, rel_se=None) -> tuple[float, float]:
    """Least-squares slope of log y against log x, and its standard error from the relative
    standard errors `rel_se` of y (independent points; NaN when not given)."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if lx.size < 2:
        raise ValueError(f"a slope needs at least two points, got {lx.size}")
    slope = float(np.polyfit(lx, ly, 1)[0])
    if rel_se is None:
        return slope, float("nan")
    w = (lx - lx.mean()) / ((lx - lx.mean()) ** 2).sum()
    return slope, float(np.sqrt((w**2 * np.asarray(rel_se, float) ** 2).sum()))
