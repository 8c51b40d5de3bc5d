"""Chapter 10's figures (Figs 16–19 and ours), each drawn from a `Study` and returned, not shown."""

from __future__ import annotations

import numpy as np

from ...book.plotting import coordinate_labels
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
    """Figs 16–19's layout for one model: per head, the KQ circuit (key coordinate × query x-coordinate)
    and the OV rows that write y⁽¹⁾, y⁽²⁾ (one colour scale per row of panels); heads titled with their role."""
    import matplotlib.pyplot as plt

    m, d = st.models[(H, seed)], st.task.d
    kq, ov = np.asarray(m.run.kq)[:, :, :d], np.asarray(m.run.ov)[:, d:, :]
    D, T = kq.shape[1], ov.shape[1]
    labels = coordinate_labels(d, T)
    fig, axes = plt.subplots(
        2, H, figsize=(2.2 * H + 1.0, 4.4), squeeze=False, gridspec_kw={"height_ratios": [D, 1.5 * T]}
    )
    for row, (A, ylab) in enumerate(((kq, labels), (ov, labels[d:]))):
        v = np.abs(A).max()
        for h in range(H):
            ax = axes[row, h]
            im = ax.imshow(A[h], cmap="RdBu_r", vmin=-v, vmax=v, aspect="equal" if row == 0 else "auto")
            ax.set_xticks(range(A.shape[2]), labels[: A.shape[2]], fontsize=7)
            ax.set_yticks(range(A.shape[1]), ylab if h == 0 else [""] * A.shape[1], fontsize=7)
            ax.grid(False)
            ax.set_title(f"head {h + 1}: {m.roles[h]}" if row == 0 else "OV rows of $y$", fontsize=9)
        fig.colorbar(im, ax=axes[row, H - 1], shrink=0.8)
    fig.suptitle(f"$H = {H}$, seed {seed}: mode {m.mode}")
    return fig


def plot_modes(st: Study):
    """Every model at a glance: rows H, columns seeds; each panel has one row per head, ω_h (divided by
    the model's max |ω|) then μ_{h,1}, μ_{h,2} (divided by max |μ|); the title gives the mode."""
    import matplotlib.pyplot as plt

    Hs, seeds = sorted({H for H, _ in st.models}), sorted({s for _, s in st.models})
    d, T = st.task.d, st.task.n_tasks
    fig, axes = plt.subplots(
        len(Hs),
        len(seeds),
        figsize=(2.9 * len(seeds) + 0.6, 0.55 * sum(Hs) + 1.1 * len(Hs)),
        squeeze=False,
        gridspec_kw={"height_ratios": [H + 0.6 for H in Hs]},
    )
    xl = [f"ω{i + 1}" for i in range(d)] + [f"μ{t + 1}" for t in range(T)]
    for i, H in enumerate(Hs):
        for j, s in enumerate(seeds):
            ax, m = axes[i, j], st.models.get((H, s))
            if m is None:
                ax.axis("off")
                continue
            c = m.circuits
            A = np.hstack([c.omega / np.abs(c.omega).max(), c.mu / np.abs(c.mu).max()])
            ax.imshow(A, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
            ax.set_xticks(range(d + T), xl, fontsize=7)
            ax.set_yticks(range(H), m.roles, fontsize=7)
            ax.grid(False)
            ax.axvline(d - 0.5, color="k", lw=1.2)
            ax.set_title(f"H = {H}, seed {s}: {m.mode}", fontsize=9)
    return fig


_REF_STYLE = {
    "restricted": ("dGD on $S_t$ (best rate)", dict(color="k", ls="-")),
    "common": ("best common weighting", dict(color="C7", ls="--")),
    "full": ("plain dGD (best rate)", dict(color="C7", ls=":")),
}


def plot_risk_curves(st: Study):
    """Per-task ICL risk against L' for every H (mean over seeds, ±2 s.e. of that mean over seeds),
    with the exact references and the training length L."""
    import matplotlib.pyplot as plt

    cv, T = st.curves, st.task.n_tasks
    fig, axes = plt.subplots(1, T, figsize=(5.2 * T + 2.2, 4.3), sharey=True, squeeze=False)
    for t in range(T):
        ax = axes[0, t]
        for k, (H, a) in enumerate(cv.mc.items()):
            x = a[t]
            se = x.std(axis=1, ddof=1) / np.sqrt(x.shape[1]) if x.shape[1] > 1 else np.zeros(len(x))
            ax.errorbar(
                cv.lengths * (1 + 0.03 * (k - 2)),
                x.mean(1),
                yerr=2 * se,
                marker="o",
                ms=4,
                capsize=2,
                lw=1.4,
                label=f"softmax $H = {H}$",
                color=f"C{k}",
            )
        for key, (label, sty) in _REF_STYLE.items():
            ax.plot(cv.lengths, cv.exact[key][t], label=label, lw=1.4, **sty)
        ax.axvline(st.ch.L, color="0.4", ls=":", lw=1)
        ax.set(xscale="log", yscale="log", xlabel="number of in-context examples $L'$", title=f"task {t + 1}")
    axes[0, 0].set_ylabel("ICL risk of the task")
    axes[0, -1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig
