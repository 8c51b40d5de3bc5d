"""Chapter 04's figures, each a function of the `Study` returning a matplotlib Figure."""

from __future__ import annotations

import numpy as np

from ...book.plotting import head_styles, sign_handles
from ...book.style import (
    FULL_WIDTH,
    MIN_FONT_PT,
    REFERENCE,
    SIGN,
    SIGN_NAME,
    config_colours,
    figsize,
    reference,
)
from ...core import theory
from ...core.circuits import head_groups
from ...core.dynamics import pattern_metrics
from .analysis import Study

__all__ = [
    "plot_trajectories",
    "plot_trap",
    "plot_manifold",
    "head_lines",
    "event_marks",
]

# The events of a run, in neutral greys that no head or measure uses: (label above the axes, line style)
EVENTS = {"stage1": ("Stage I ends", "-"), "zero_sum": ("zero-sum", "--"), "homogeneous": ("homog.", ":")}


def head_lines(ax, x, values, groups, *, lw: float = 1.8):
    """One line per head, coloured by its group (`icl.book.style.SIGN`: positive red, negative
    blue, dummy grey); heads of one group are told apart by line style."""
    styles = head_styles(groups)
    for h in range(values.shape[1]):
        ax.plot(x, values[:, h], color=SIGN[int(groups[h])], ls=styles[h], lw=lw)
    return styles


def event_marks(ax, events, *, label: bool = True):
    """Vertical lines at a run's events {name: step} (EVENTS: one neutral grey, a line style each),
    named above the axes, each event on its own level (so that close events' names do not overlap)."""
    for level, name in enumerate(EVENTS):
        when = events.get(name)
        if when is None or when < 0:
            continue
        text, ls = EVENTS[name]
        x = max(when, 1)
        ax.axvline(x, color="0.3", ls=ls, lw=1.3, zorder=4)
        if label:
            ax.annotate(
                text,
                (x, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 2 + (len(EVENTS) - 1 - level) * (MIN_FONT_PT + 2)),
                textcoords="offset points",
                ha="center",
                va="bottom",
                color="0.2",
                fontsize=MIN_FONT_PT,
                annotation_clip=False,
            )


def plot_trajectories(st: Study):
    """One row per head count (its first run): ω_h and μ_h (heads by the sign of their end point) and
    the pattern measures, with the end of Stage I, zero-sum reached and homogeneity reached as
    neutral lines named above each row's panels."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    results, eta_eff, lr = st.runs, st.ch.eta_eff, st.ch.budget.lr
    Hs = list(results)
    fig, axes = plt.subplots(
        len(Hs), 3, figsize=figsize(3, len(Hs), aspect=0.95, width=FULL_WIDTH), sharex=True, squeeze=False
    )
    m_cols = ("k", *config_colours(4)[1:])  # black, orange, green, pink: no head's red or blue
    all_groups = []
    for row, H in enumerate(Hs):
        tr, times, ax = results[H].traj, results[H].times, axes[row]
        x = np.maximum(tr.steps, 1)
        omega, mu = tr.omega[:, 0], tr.mu[:, 0]
        groups = head_groups(omega[-1], mu[-1])
        all_groups += list(groups)
        head_lines(ax[0], x, omega, groups)
        head_lines(ax[1], x, mu, groups)
        sign, zs, spread = pattern_metrics(omega, mu)
        series = (np.einsum("sh,sh->s", omega, mu) / eta_eff, sign, zs, spread)
        for y, c in zip(series, m_cols):
            ax[2].plot(x, y, color=c, lw=1.6)
        top = max(1.1, float(np.nanmax([np.nanmax(s) for s in series])) + 0.05)
        ax[2].set_ylim(-0.05, top)
        events = {"stage1": times.stage1_end[0], "zero_sum": times.zero_sum[0], "homogeneous": times.homogeneous[0]}
        for a in ax:
            a.axhline(0, color="0.6", lw=0.6, zorder=1)
            event_marks(a, events)
        ax[0].set_ylabel(rf"$H = {H}$:  $\omega_h$")
        ax[1].set_ylabel(r"$\mu_h$")
        ax[2].set_ylabel("measure")
    for a, title in zip(axes[0], (r"KQ scales $\omega_h$", r"OV weights $\mu_h$", "pattern measures")):
        a.set_title(title, pad=4 + 3 * (MIN_FONT_PT + 2))
    for a in axes[-1]:
        a.set(xscale="log", xlabel="GD step")
    labels = (
        r"$\langle\omega,\mu\rangle/\eta_{\mathrm{eff}}$",
        "sign-matching fraction",
        r"$|\sum_h\mu_h|/\sum_h|\mu_h|$",
        r"spread of $|\omega_h|$",
    )
    handles = sign_handles(all_groups)
    handles += [Line2D([], [], color=c, lw=1.6, label=lab) for c, lab in zip(m_cols, labels)]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, title=f"GD step size {lr:g}")
    return fig


def plot_trap(st: Study):
    """The two-head run from a one-signed start: ω_h against ±1/√d, and μ_h; heads by the sign of
    their end point (one sign here, so told apart by line style)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    tr, d = st.trap.example, st.ch.d
    x = np.maximum(tr.steps, 1)
    omega, mu = tr.omega[:, 0], tr.mu[:, 0]
    groups = head_groups(omega[-1], mu[-1])
    fig, ax = plt.subplots(1, 2, figsize=figsize(2, aspect=0.72, width=FULL_WIDTH), sharex=True)
    styles = head_lines(ax[0], x, omega, groups, lw=2)
    head_lines(ax[1], x, mu, groups, lw=2)
    w1 = 1 / np.sqrt(d)
    reference(ax[0], w1, kind="theory", label=r"$\pm 1/\sqrt{d}$ (single-head optimum)")
    reference(ax[0], -w1, kind="theory", label="")
    ax[0].set(xscale="log", xlabel="GD step", ylabel=r"$\omega_h$", title="a two-head run, one-signed start")
    ax[1].set(xscale="log", xlabel="GD step", ylabel=r"$\mu_h$", title="its OV weights")
    handles = [
        Line2D([], [], color=SIGN[int(g)], ls=ls, lw=2, label=f"head {h + 1} ({SIGN_NAME[int(g)]})")
        for h, (g, ls) in enumerate(zip(groups, styles))
    ]
    handles += ax[0].get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncol=3)
    return fig


def plot_manifold(st: Study):
    """The end points of the runs that split against S(ω), one colour per head count: μ*(ω) (4.6),
    η(ω) = 2ωμ*(ω) and L̃ on S(ω) minus its limit 1 + σ² − η_eff over ω, and each end point's
    relative distance from S(ω) at its own ω (the comparison the claims make)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    ends, d, L, sigma2 = st.ends, st.ch.d, st.ch.L, st.ch.sigma2
    ws, s = np.logspace(-3, 0, 400), ends[ends["± heads"]]
    floor = theory.approx_floor(d, L, sigma2)
    Hs = sorted(ends["H"].unique())
    colours = dict(zip(Hs, config_colours(len(Hs))))
    fig, axes = plt.subplots(2, 2, figsize=figsize(2, 2, aspect=0.7, width=FULL_WIDTH))
    ax = axes.ravel()
    reference(ax[0], ws, theory.manifold_mu(ws, d, L, sigma2), "theory", label=r"$\mu^*(\omega)$ (4.6)")
    ax[0].set(xscale="log", yscale="log", xlabel=r"$\omega$", ylabel=r"$\Sigma_{h\in+}\,\mu_h$", title="OV weight")
    reference(ax[1], ws, theory.manifold_eta(ws, d, L, sigma2), "theory", label="")
    reference(ax[1], theory.eta_eff(d, L, sigma2), kind="floor", label=r"$\eta_{\mathrm{eff}} = 1/(1+cd)$")
    ax[1].set(xscale="log", xlabel=r"$\omega$", ylabel=r"$\langle\omega,\mu\rangle$", title="the debiased-GD step")
    reference(ax[2], ws, theory.manifold_loss(ws, d, L, sigma2) - floor, "theory", label="")
    ax[2].set(
        xscale="log",
        yscale="log",
        xlabel=r"$\omega$",
        ylabel=r"$\tilde{\mathcal{L}} - (1+\sigma^2-\eta_{\mathrm{eff}})$",
        title="the loss",
    )
    kinds = (
        ("o", r"$\Sigma_{h\in+}\,\mu_h\,/\,\mu^*(\omega) - 1$"),
        ("s", r"$\langle\omega,\mu\rangle\,/\,\eta(\omega) - 1$"),
    )
    for H in Hs:
        e = s[s["H"] == H]
        if e.empty:
            continue
        x, c = e["ω (mean |ω_h|)"].to_numpy(), colours[H]
        ax[0].scatter(x, e["Σ₊ μ_h"], color=c, s=28, zorder=3)
        ax[1].scatter(x, e["⟨ω, μ⟩"], color=c, s=28, zorder=3)
        ax[2].scatter(x, e["L̃ at the end"] - floor, color=c, s=28, zorder=3)
        rel = (
            e["Σ₊ μ_h"].to_numpy() / e["μ*(ω)"].to_numpy() - 1,
            e["⟨ω, μ⟩"].to_numpy() / theory.manifold_eta(x, d, L, sigma2) - 1,
        )
        for (marker, _), r in zip(kinds, rel):
            ax[3].scatter(x, np.abs(r), color=c, marker=marker, s=28, zorder=3)
    ax[3].set(
        xscale="log",
        yscale="log",
        xlabel=r"$\omega$",
        ylabel="|relative distance|",
        title=r"end points from $S(\omega)$",
    )
    handles = [Line2D([], [], color=colours[H], marker="o", ls="", label=f"$H = {H}$") for H in Hs]
    handles += [Line2D([], [], color="0.3", marker=m, ls="", label=lab) for m, lab in kinds]
    handles += [
        Line2D(
            [],
            [],
            **{k: v for k, v in REFERENCE["theory"].items() if k != "label"},
            label=r"on $S(\omega)$: $\mu^*$, $\eta(\omega) = 2\omega\mu^*$, $\tilde{\mathcal{L}}$",
        ),
        Line2D(
            [],
            [],
            **{k: v for k, v in REFERENCE["floor"].items() if k != "label"},
            label=r"$\eta_{\mathrm{eff}} = 1/(1+cd)$",
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=2)
    return fig
