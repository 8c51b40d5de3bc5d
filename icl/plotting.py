"""Figures in the paper's notation: circuit heatmaps, dynamics, risk curves."""

from __future__ import annotations

import numpy as np

__all__ = ["use_style", "plot_circuits", "coordinate_labels", "log_binned"]


def use_style():
    """The book's figure style (seaborn, talk-sized labels)."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", font_scale=1.05)
    mpl.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "axes.titleweight": "bold", "figure.constrained_layout.use": True})


def coordinate_labels(d: int, T: int = 1) -> list[str]:
    """Token coordinates as the paper writes them: x_1 … x_d, then y (or y^(1) … y^(T))."""
    ys = ["$y$"] if T == 1 else [f"$y^{{({t + 1})}}$" for t in range(T)]
    return [f"$x_{{{i + 1}}}$" for i in range(d)] + ys


def plot_circuits(kq, ov, d: int, *, title: str | None = None, head_labels=None, vmax: float | None = None, axes=None):
    """Per head: the KQ circuit's rows for every key coordinate against the query's x coordinates
    (the x-block and the key-y row), and the OV circuit's y row(s), on one shared colour scale.

    kq, ov: (H, D, D). Returns the figure.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    kq, ov = np.asarray(kq), np.asarray(ov)
    H, D = kq.shape[0], kq.shape[-1]
    T = D - d
    labels = coordinate_labels(d, T)
    kq_part = kq[:, :, :d]  # (H, D, d): key coordinate × query x-coordinate
    ov_part = ov[:, d:, :]  # (H, T, D)
    vk = vmax if vmax is not None else np.abs(kq_part).max()
    vo = np.abs(ov_part).max()
    if axes is None:
        fig, axes = plt.subplots(2, H, figsize=(2.3 * H + 1.2, 4.6), squeeze=False, gridspec_kw={"height_ratios": [D, 1.6 * T]})
    else:
        fig = axes[0, 0].figure
    head_labels = head_labels or [f"head {h + 1}" for h in range(H)]
    for h in range(H):
        ax = axes[0, h]
        sns.heatmap(kq_part[h], ax=ax, cmap="RdBu_r", vmin=-vk, vmax=vk, cbar=h == H - 1, square=True,
                    xticklabels=labels[:d], yticklabels=labels if h == 0 else False, linewidths=0.3, linecolor="white")
        ax.set_title(f"{head_labels[h]}\nKQ $W_{{{h + 1}}}$", fontsize=10)
        if h == 0:
            ax.set_ylabel("key")
        ax.set_xlabel("query")
        ax = axes[1, h]
        sns.heatmap(ov_part[h], ax=ax, cmap="RdBu_r", vmin=-vo, vmax=vo, cbar=h == H - 1,
                    xticklabels=labels, yticklabels=labels[d:] if h == 0 else False, linewidths=0.3, linecolor="white")
        ax.set_title(f"OV $u_{{{h + 1}}}$ (last row)", fontsize=10)
    if title:
        fig.suptitle(title)
    return fig


def log_binned(values, n_bins: int = 100):
    """Means of `values` (one per step, step 1 first) over log-spaced bins of steps, for a
    noisy training curve on a log axis: (bin centre steps, bin means)."""
    values = np.asarray(values, dtype=float)
    edges = np.unique(np.round(np.logspace(0, np.log10(len(values) + 1), n_bins + 1)).astype(int))
    centres = np.sqrt(edges[:-1] * np.maximum(edges[1:] - 1, edges[:-1]))
    means = np.array([values[a - 1 : b - 1].mean() for a, b in zip(edges[:-1], edges[1:])])
    return centres, means
