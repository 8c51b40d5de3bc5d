"""Chapter 02's wording helpers shared by its claim modules: the worst value per head count, the
finding a failure gets at the paper's parameters, and a trend as text."""

from __future__ import annotations

__all__ = ["by_H", "trend_text"]


def by_H(values, fmt: str = "{:.2f}", worst=max) -> str:
    """'H=1: v, H=2: v, …' with the worst value over seeds per head count (values: a Series
    indexed by (H, seed, …))."""
    g = values.groupby(level="H").agg(worst)
    return ", ".join(f"H={H}: {fmt.format(v)}" for H, v in g.items())


def trend_text(trend, col: str) -> str:
    return " → ".join(f"{v:.2f} at step {k:,}" for k, v in trend[col].items())
