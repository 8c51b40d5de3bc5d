"""Chapter 10's figures (Figs 16–19 and ours), each drawn from a `Study` and returned, not shown."""

from __future__ import annotations

import numpy as np

from ...book import style
from ...book.plotting import plot_circuits
from .analysis import Study

__all__ = ["plot_model", "plot_modes", "plot_risk_curves", "figure_seed", "PAPER_MODE"]


PAPER_MODE = {1: "I", 2: "II", 3: "IV", 4: "III"}  # the mode the paper reports at each H (Figs 16–19)


def figure_seed(st: Study, H: int) -> int:
    """The seed drawn for H: the first in the mode the paper reports at H, else the budget's `figure_seed` (ours)."""
    default = st.ch.budget.figure_seed
    seeds = sorted(s for h, s in st.models if h == H)
    hit = [s for s in seeds if st.models[(H, s)].mode == PAPER_MODE.get(H)]
    return hit[0] if hit else (default if default in seeds else seeds[0])


def plot_model(st: Study, H: int, seed: int):
    """Figs 16–19's layout for one model (`icl.book.plotting.plot_circuits`): per head, the KQ circuit
    (key coordinate × query x-coordinate) over the OV rows that write y⁽¹⁾, y⁽²⁾, at most four heads to
    a row, KQ and OV each on one colour scale with its colour bar; heads titled with their role."""
    m, d = st.models[(H, seed)], st.task.d
    fig = plot_circuits(
        np.asarray(m.run.kq),
        np.asarray(m.run.ov),
        d,
        title=f"$H = {H}$, seed {seed}: mode {m.mode}",
        head_labels=[f"head {h + 1}: {r}" for h, r in enumerate(m.roles)],
    )
    for ax in fig.axes:  # coordinate labels upright on the y axes, one orientation on the x axes
        if ax.get_label() != "<colorbar>":
            ax.tick_params(axis="y", labelrotation=0)
            ax.tick_params(axis="x", labelrotation=90 if len(ax.get_xticks()) > d else 0)
    return fig


def plot_modes(st: Study):
    """Every model at a glance: rows H, columns seeds; each panel has one row per head, ω_h (divided by
    the model's max |ω|) then μ_{h,1}, μ_{h,2} (divided by max |μ|), on one colour scale shown by one
    colour bar; the row labels give the heads' roles, the title the mode."""
    import matplotlib.pyplot as plt

    Hs, seeds = sorted({H for H, _ in st.models}), sorted({s for _, s in st.models})
    d, T = st.task.d, st.task.n_tasks
    fig, axes = plt.subplots(
        len(Hs),
        len(seeds),
        figsize=(min(style.FULL_WIDTH, 2.5 * len(seeds) + 1.6), 0.3 * sum(Hs) + 0.75 * len(Hs) + 0.3),
        squeeze=False,
        gridspec_kw={"height_ratios": [H + 0.5 for H in Hs]},
    )
    xl = [f"$\\omega_{{{i + 1}}}$" for i in range(d)] + [f"$\\mu_{{{t + 1}}}$" for t in range(T)]
    im = None
    for i, H in enumerate(Hs):
        for j, s in enumerate(seeds):
            ax, m = axes[i, j], st.models.get((H, s))
            if m is None:
                ax.axis("off")
                continue
            c = m.circuits
            A = np.hstack([c.omega / np.abs(c.omega).max(), c.mu / np.abs(c.mu).max()])
            im = ax.imshow(A, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
            ax.set_xticks(range(d + T), xl if i == len(Hs) - 1 else [""] * (d + T))
            ax.set_yticks(range(H), m.roles)
            ax.tick_params(length=0, pad=2)
            ax.grid(False)
            ax.axvline(d - 0.5, color="k", lw=1.2)
            ax.set_title(f"$H = {H}$, seed {s}: {m.mode}")
    if im is not None:
        style.colorbar(
            im, list(axes.flat), label=r"$\omega_h$ / max $|\omega|$,  $\mu_{h,t}$ / max $|\mu|$", shrink=0.6
        )
    return fig


# The exact references of the risk curves: (label, the style's kind).
_REFS = {
    "restricted": (r"dGD on $S_t$ (best rate)", "dgd"),
    "common": ("best common weighting", "theory"),
    "full": ("plain dGD (best rate)", "gd"),
}


def plot_risk_curves(st: Study):
    """Top: per-task ICL risk against L' for every H (one colour each; mean over seeds, ±2 s.e. of
    that mean over seeds), with the exact references above them and the training length L marked.
    Bottom: the same relative to debiased GD on the task's support, risk / R_dGD(S_t) (log axis)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FormatStrFormatter

    cv, T = st.curves, st.task.n_tasks
    Hs = list(cv.mc)
    cols = dict(zip(Hs, style.config_colours(len(Hs))))
    fig, axes = plt.subplots(
        2,
        T,
        figsize=style.figsize(T, 2, width=style.FULL_WIDTH - 1.6, aspect=0.8),
        sharex=True,
        sharey="row",
        squeeze=False,
        gridspec_kw={"height_ratios": [3, 2]},
    )
    for t in range(T):
        ax, ax_r = axes[0, t], axes[1, t]
        ref = np.asarray(cv.exact["restricted"][t])
        for k, (H, a) in enumerate(cv.mc.items()):
            x = a[t]
            se = x.std(axis=1, ddof=1) / np.sqrt(x.shape[1]) if x.shape[1] > 1 else np.zeros(len(x))
            xs = cv.lengths * (1 + 0.03 * (k - (len(Hs) - 1) / 2))
            kw = dict(marker="o", ms=3.5, capsize=2, lw=1.4, color=cols[H])
            ax.errorbar(xs, x.mean(1), yerr=2 * se, **kw)
            ax_r.errorbar(xs, x.mean(1) / ref, yerr=2 * se / ref, **kw)
        for key, (_, kind) in _REFS.items():
            y = np.asarray(cv.exact[key][t])
            style.reference(ax, cv.lengths, y, kind, label="")
            style.reference(ax_r, cv.lengths, y / ref, kind, label="")
        style.mark(ax, st.ch.L, f"training $L = {st.ch.L}$")
        ax.set(xscale="log", yscale="log")
        ax.set_title(f"task {t + 1}", pad=16)
        ax_r.set(xscale="log", yscale="log", xlabel="in-context examples $L'$")
        ax_r.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax_r.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax_r.axvline(st.ch.L, color="0.35", ls=":", lw=1.2, zorder=4)
    axes[0, 0].set_ylabel("ICL risk of the task")
    axes[1, 0].set_ylabel(r"risk / $\mathcal{R}_{\mathrm{dGD}}(S_t)$")
    handles = [Line2D([], [], color=c, marker="o", ms=4, lw=1.6, label=f"softmax $H = {H}$") for H, c in cols.items()]
    handles += [
        Line2D([], [], **{k: v for k, v in style.REFERENCE[kind].items() if k != "label"}, label=label)
        for label, kind in _REFS.values()
    ]
    style.legend_outside(fig, handles=handles)
    return fig
