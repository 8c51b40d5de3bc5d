"""Figures in the paper's notation: circuit heatmaps, dynamics, risk curves."""

from __future__ import annotations

import numpy as np

from .style import MIN_FONT_PT, SIGN, SIGN_NAME, config_colours, figsize, legend_outside, mark, reference, seed_style

__all__ = [
    "plot_circuits",
    "circuit_axes",
    "coordinate_labels",
    "plot_training_curve",
    "plot_head_dynamics",
    "plot_risk_curves",
    "head_styles",
    "sign_handles",
    "GROUP_COLOURS",
]

GROUP_COLOURS = SIGN  # heads by the sign of μ_h (icl.book.style)


def head_styles(groups) -> list:
    """The line style of each head in groups (H,) ∈ {+1, −1, 0}: the k-th head of its group gets
    `seed_style(k)`, so heads of one colour are told apart."""
    seen: dict = {}
    out = []
    for g in np.asarray(groups).astype(int):
        out.append(seed_style(seen.get(g, 0)))
        seen[g] = seen.get(g, 0) + 1
    return out


def sign_handles(groups):
    """Legend handles naming the head groups present in groups (not the heads): '+ heads', …"""
    from matplotlib.lines import Line2D

    present = {int(g) for g in np.asarray(groups).ravel()}
    return [Line2D([], [], color=SIGN[g], lw=2, label=f"{SIGN_NAME[g]} heads") for g in (+1, -1, 0) if g in present]


def coordinate_labels(d: int, T: int = 1) -> list[str]:
    """Token coordinates as the paper writes them: x_1 … x_d, then y (or y^(1) … y^(T))."""
    ys = ["$y$"] if T == 1 else [f"$y^{{({t + 1})}}$" for t in range(T)]
    return [f"$x_{{{i + 1}}}$" for i in range(d)] + ys


def circuit_axes(H: int, d: int, T: int = 1, *, per_row: int = 4):
    """A figure laid out for `plot_circuits`: per head a KQ panel over an OV panel, at most per_row
    heads to a row (so an 8-head model stays within the book's width). Returns (fig, axes (2R, C))."""
    import matplotlib.pyplot as plt

    if H < 1 or per_row < 1:
        raise ValueError(f"H and per_row must be ≥ 1, got {H}, {per_row}")
    C = min(H, per_row)
    R = -(-H // C)
    D = d + T
    panel = min(1.6, (7.8 - 1.3) / C)  # inches per head
    height = R * (panel * (D + 1.6 * T) / d + 1.5)  # titles and labels: room for square KQ panels
    fig, axes = plt.subplots(
        2 * R, C, figsize=(panel * C + 1.3, height), squeeze=False, gridspec_kw={"height_ratios": [D, 1.6 * T] * R}
    )
    for k in range(H, R * C):  # the last row's empty places
        r, c = divmod(k, C)
        axes[2 * r, c].set_visible(False)
        axes[2 * r + 1, c].set_visible(False)
    return fig, axes


def plot_circuits(
    kq,
    ov,
    d: int,
    *,
    title: str | None = None,
    head_labels=None,
    vmax: float | None = None,
    axes=None,
    per_row: int = 4,
):
    """Per head: the KQ circuit's rows for every key coordinate against the query's x coordinates
    (the x-block and the key-y row), and the OV circuit's y row(s); KQ on one colour scale, OV on
    another, each with its colour bar. At most per_row heads to a row.

    kq, ov: (H, D, D). axes: (2R, C) from `circuit_axes` (default: made here). Returns the figure.
    """
    import seaborn as sns

    kq, ov = np.asarray(kq), np.asarray(ov)
    H, D = kq.shape[0], kq.shape[-1]
    T = D - d
    labels = coordinate_labels(d, T)
    kq_part = kq[:, :, :d]  # (H, D, d): key coordinate × query x-coordinate
    ov_part = ov[:, d:, :]  # (H, T, D)
    vk = vmax if vmax is not None else float(np.abs(kq_part).max()) or 1.0
    vo = float(np.abs(ov_part).max()) or 1.0
    fig, axes = circuit_axes(H, d, T, per_row=per_row) if axes is None else (axes[0, 0].figure, axes)
    C = axes.shape[1]
    head_labels = head_labels or [f"head {h + 1}" for h in range(H)]
    kq_axes, ov_axes = [], []
    for h in range(H):
        r, c = divmod(h, C)
        ax = axes[2 * r, c]
        sns.heatmap(
            kq_part[h],
            ax=ax,
            cmap="RdBu_r",
            vmin=-vk,
            vmax=vk,
            cbar=False,
            square=True,
            xticklabels=labels[:d],
            yticklabels=labels if c == 0 else False,
            linewidths=0.3,
            linecolor="white",
        )
        ax.set_title(f"{head_labels[h]}\nKQ $W_{{{h + 1}}}$", fontsize=MIN_FONT_PT + 0.5)
        if c == 0:
            ax.set_ylabel("key")
        ax.set_xlabel("query")
        kq_axes.append(ax)
        ax = axes[2 * r + 1, c]
        sns.heatmap(
            ov_part[h],
            ax=ax,
            cmap="RdBu_r",
            vmin=-vo,
            vmax=vo,
            cbar=False,
            xticklabels=labels,
            yticklabels=labels[d:] if c == 0 else False,
            linewidths=0.3,
            linecolor="white",
        )
        ax.set_title(f"OV $u_{{{h + 1}}}$", fontsize=MIN_FONT_PT + 0.5)
        ov_axes.append(ax)
    # one colour bar per scale, beside the first KQ row and the first OV row (bars spanning every row
    # of a several-row model would overlap)
    fig.colorbar(kq_axes[-1].collections[0], ax=list(axes[0]), shrink=0.8, label="KQ entry")
    fig.colorbar(ov_axes[-1].collections[0], ax=list(axes[1]), shrink=0.8, label="OV entry")
    if title:
        fig.suptitle(title)
    return fig


def plot_head_dynamics(
    steps, omega, mu, groups, *, onset=None, axes=None, title: str | None = None, legend: bool = True
):
    """Training dynamics of the effective parameters (Observation 4, Figs 5 and 13).

    Left: ω_h against the step; right: μ_h, with the group sums Σ_{h+} μ_h, Σ_{h−} μ_h and Σ_h μ_h
    dashed. Heads are coloured by their final group (positive red, negative blue, dummy grey); the
    legend (outside the data; legend=False leaves it out) names the groups, not the heads.
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
        fig, axes = plt.subplots(1, 2, figsize=figsize(2, width=7.8, aspect=0.62))
    fig = axes[0].figure
    H = omega.shape[1]
    for h in range(H):
        c = SIGN[int(groups[h])]
        axes[0].plot(t, omega[:, h], color=c, lw=1.6, alpha=0.9, label=f"head {h + 1}")
        axes[1].plot(t, mu[:, h], color=c, lw=1.6, alpha=0.9, label=f"head {h + 1}")
    sums = []
    if H > 1:
        for g, name in ((+1, r"$\Sigma_{h\in +}\,\mu_h$"), (-1, r"$\Sigma_{h\in -}\,\mu_h$")):
            if (groups == g).sum() > 1:
                sums += axes[1].plot(t, mu[:, groups == g].sum(1), color=SIGN[g], ls="--", lw=1.3, label=name)
        sums += axes[1].plot(t, mu.sum(1), color="k", ls="--", lw=1.3, label=r"$\Sigma_h\,\mu_h$")
    for ax, name in zip(axes, (r"$\omega_h$", r"$\mu_h$")):
        ax.axhline(0, color="k", lw=0.6)
        if onset is not None and onset > 0:
            mark(ax, onset, "pattern settled")
        kind = "KQ scale " if "omega" in name else "OV scale "
        ax.set(xscale="log", xlabel="Adam step", ylabel=name, title=kind + name)
    if legend:
        legend_outside(axes[1], handles=sign_handles(groups) + sums)
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
    references: dict | None = None,
):
    """Risk against the test length L' with ±2 standard-error bars (Fig. 4).

    lengths: (K,) test lengths; curves: name → (means (K,), standard errors (K,)); styles: name →
    matplotlib keyword arguments (colour, marker, line style); references: name → (means (K,), kind),
    drawn in `icl.book.style.REFERENCE[kind]`'s style above the curves; train_L: marks the training
    length above the axes. Returns the axes.
    """
    import matplotlib.pyplot as plt

    lengths = np.asarray(lengths)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize(1, width=5.2, aspect=0.62))
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
    for name, (m, kind) in (references or {}).items():
        m = np.asarray(m, float)
        if m.shape != lengths.shape:
            raise ValueError(f"reference {name!r} must have one value per length ({lengths.shape[0]})")
        reference(ax, lengths, m, kind, label=name)
    if train_L is not None:
        mark(ax, train_L, f"training $L = {train_L}$")
    ax.set(xscale="log", xlabel="number of in-context examples $L'$", ylabel=ylabel)
    if title:
        ax.set_title(title)
    return ax


def plot_training_curve(curve, references: dict, *, ax=None, title: str | None = None):
    """Training loss against Adam step, with horizontal reference lines `references` = {label: value}
    or {label: (value, kind)} (kind: a key of `icl.book.style.REFERENCE`; default "dgd").
    curve: (steps, means over log-spaced bins), as `TrainedRun.loss_curve()` gives. Returns the figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize(1, width=6.0, aspect=0.5))
    steps, means = curve
    ax.plot(steps, means, lw=1.6, color=config_colours(1)[0], label="training loss (mean over log-spaced bins)")
    for label, ref in references.items():
        value, kind = ref if isinstance(ref, tuple) else (ref, "dgd")
        reference(ax, value, kind=kind, label=label)
    ax.set(xscale="log", xlabel="Adam step", ylabel="MSE", ylim=(0, 1.3), title=title)
    legend_outside(ax)
    return ax.figure
