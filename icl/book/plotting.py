"""Figures in the paper's notation: circuit heatmaps, dynamics, risk curves."""

from __future__ import annotations

import numpy as np

__all__ = [
    "use_style",
    "plot_circuits",
    "coordinate_labels",
    "plot_training_curve",
    "plot_head_dynamics",
    "plot_risk_curves",
    "GROUP_COLOURS",
]


def use_style():
    """The book's figure style (seaborn, talk-sized labels)."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", font_scale=1.05)
    mpl.rcParams.update(
        {"figure.dpi": 110, "savefig.dpi": 150, "axes.titleweight": "bold", "figure.constrained_layout.use": True}
    )


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
        fig, axes = plt.subplots(
            2, H, figsize=(2.3 * H + 1.2, 4.6), squeeze=False, gridspec_kw={"height_ratios": [D, 1.6 * T]}
        )
    else:
        fig = axes[0, 0].figure
    head_labels = head_labels or [f"head {h + 1}" for h in range(H)]
    for h in range(H):
        ax = axes[0, h]
        sns.heatmap(
            kq_part[h],
            ax=ax,
            cmap="RdBu_r",
            vmin=-vk,
            vmax=vk,
            cbar=h == H - 1,
            square=True,
            xticklabels=labels[:d],
            yticklabels=labels if h == 0 else False,
            linewidths=0.3,
            linecolor="white",
        )
        ax.set_title(f"{head_labels[h]}\nKQ $W_{{{h + 1}}}$", fontsize=10)
        if h == 0:
            ax.set_ylabel("key")
        ax.set_xlabel("query")
        ax = axes[1, h]
        sns.heatmap(
            ov_part[h],
            ax=ax,
            cmap="RdBu_r",
            vmin=-vo,
            vmax=vo,
            cbar=h == H - 1,
            xticklabels=labels,
            yticklabels=labels[d:] if h == 0 else False,
            linewidths=0.3,
            linecolor="white",
        )
        ax.set_title(f"OV $u_{{{h + 1}}}$ (last row)", fontsize=10)
    if title:
        fig.suptitle(title)
    return fig


GROUP_COLOURS = {+1: "#c0392b", -1: "#2166ac", 0: "#8c8c8c"}  # positive, negative, dummy heads


def _group_name(g: int) -> str:
    return {+1: "+", -1: "−", 0: "dummy"}[int(g)]


def plot_head_dynamics(steps, omega, mu, groups, *, onset=None, axes=None, title: str | None = None):
    """Training dynamics of the effective parameters (Observation 4, Figs 5 and 13).

    Left: ω_h against the step; right: μ_h, with the group sums Σ_{h+} μ_h, Σ_{h−} μ_h and Σ_h μ_h
    dashed. Heads are coloured by their final group (positive red, negative blue, dummy grey).
    steps: (S,) snapshot steps (step 0 is dropped: log axis); omega, mu: (S, H); groups: (H,) in
    {+1, −1, 0}; onset: a step to mark (e.g. `icl.core.circuits.pattern_onset`). Returns the figure.
    """
    import matplotlib.pyplot as plt

    steps, omega, mu, groups = np.asarray(steps), np.asarray(omega), np.asarray(mu), np.asarray(groups)
    if omega.shape != mu.shape or omega.ndim != 2 or omega.shape[0] != steps.shape[0]:
        raise ValueError(f"omega and mu must both be (S={steps.shape[0]}, H), got {omega.shape} and {mu.shape}")
    if groups.shape != (omega.shape[1],):
        raise ValueError(f"groups must have one entry per head ({omega.shape[1]}), got shape {groups.shape}")
    keep = steps > 0
    t, omega, mu = steps[keep], omega[keep], mu[keep]
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    fig = axes[0].figure
    H = omega.shape[1]
    for h in range(H):
        c, g = GROUP_COLOURS[int(groups[h])], _group_name(groups[h])
        axes[0].plot(t, omega[:, h], color=c, lw=1.6, alpha=0.9, label=f"head {h + 1} ({g})")
        axes[1].plot(t, mu[:, h], color=c, lw=1.6, alpha=0.9, label=f"head {h + 1} ({g})")
    if H > 1:
        for g, name in ((+1, r"$\Sigma_{h\in +}\,\mu_h$"), (-1, r"$\Sigma_{h\in -}\,\mu_h$")):
            if (groups == g).sum() > 1:
                axes[1].plot(t, mu[:, groups == g].sum(1), color=GROUP_COLOURS[g], ls="--", lw=1.2, label=name)
        axes[1].plot(t, mu.sum(1), color="k", ls="--", lw=1.2, label=r"$\Sigma_h\,\mu_h$")
    for ax, name in zip(axes, (r"$\omega_h$", r"$\mu_h$")):
        ax.axhline(0, color="k", lw=0.6)
        if onset is not None and onset > 0:
            ax.axvline(onset, color="0.3", ls=":", lw=1.2)
        ax.set(
            xscale="log",
            xlabel="Adam step",
            ylabel=name,
            title=f"KQ scale {name}" if "omega" in name else f"OV scale {name}",
        )
    if onset is not None and onset > 0:
        axes[0].annotate(
            "pattern settled",
            (onset, 0.98),
            xycoords=("data", "axes fraction"),
            xytext=(-2, 0),
            textcoords="offset points",
            fontsize=8,
            color="0.3",
            rotation=90,
            ha="right",
            va="top",
        )
    axes[1].legend(fontsize=7, ncol=2 if H > 3 else 1, loc="upper left")
    if title:
        fig.suptitle(title)
    return fig


def plot_risk_curves(
    lengths,
    curves: dict,
    *,
    styles: dict | None = None,
    train_L: int | None = None,
    ax=None,
    title: str | None = None,
    ylabel: str = "ICL risk",
):
    """Risk against the test length L' with ±2 standard-error bars (Fig. 4).

    lengths: (K,) test lengths; curves: name → (means (K,), standard errors (K,)); styles: name →
    matplotlib keyword arguments (colour, marker, line style); train_L: marks the training length.
    Returns the axes.
    """
    import matplotlib.pyplot as plt

    lengths = np.asarray(lengths)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    styles = styles or {}
    for name, (m, se) in curves.items():
        m, se = np.asarray(m, float), np.asarray(se, float)
        if m.shape != lengths.shape or se.shape != lengths.shape:
            raise ValueError(
                f"curve {name!r} must have one mean and one standard error per length ({lengths.shape[0]})"
            )
        kw = dict(marker="o", ms=4, lw=1.6, capsize=2)
        kw.update(styles.get(name, {}))
        ax.errorbar(lengths, m, yerr=2 * se, label=name, **kw)
    if train_L is not None:
        ax.axvline(train_L, color="0.4", ls=":", lw=1)
        ax.annotate(
            f"training $L = {train_L}$",
            (train_L, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize=8,
            color="0.3",
        )
    ax.set(xscale="log", xlabel="number of in-context examples $L'$", ylabel=ylabel)
    if title:
        ax.set_title(title)
    return ax


def plot_training_curve(curve, references: dict, *, ax=None, title: str | None = None):
    """Training loss against Adam step, with horizontal reference lines `references` = {label: value}.
    curve: (steps, means over log-spaced bins), as `TrainedRun.loss_curve()` gives. Returns the figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.4))
    steps, means = curve
    ax.plot(steps, means, lw=1.5, label="training loss (mean over log-spaced bins)")
    for (label, value), style in zip(references.items(), [("k", "--"), ("grey", ":"), ("C3", "-.")]):
        ax.axhline(value, color=style[0], ls=style[1], lw=1, label=label)
    ax.set(xscale="log", xlabel="Adam step", ylabel="MSE", ylim=(0, 1.3), title=title)
    ax.legend(fontsize=8)
    return ax.figure
