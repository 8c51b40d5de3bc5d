"""Chapter 03's figures, drawn from the `Study`: one `plot_*(st)` per glued figure, each returning it."""

from __future__ import annotations

import math
import re

import numpy as np

from ...book.plotting import head_styles
from ...book.style import (
    FULL_WIDTH,
    MIN_FONT_PT,
    SIGN,
    SIGN_NAME,
    config_colours,
    figsize,
    legend_outside,
    mark,
    reference,
    reference_handle,
)
from ...core import theory
from ...core.circuits import head_groups
from .analysis import Study

__all__ = ["plot_landscapes", "plot_valley", "plot_error_vs_length", "plot_softmax_norms", "plot_true_vs_approx"]

_APPROX_VALLEY = "#e69f00"  # the valley of L̃ on the heatmaps: visible on viridis and on RdBu
_LEVELS = (1.04, 1.13, 1.36, 1.81, 2.7, 4.5, 9.0, 22.6)  # contour levels as multiples of L̃'s floor


def _round_level(x: float) -> float:
    """x to two significant digits, or to one where that is within 2 % (0.994 → 1, 0.2297 → 0.23)."""
    one, two = float(f"{x:.1g}"), float(f"{x:.2g}")
    return one if abs(one - x) <= 0.02 * x else two


def plot_landscapes(st: Study):
    """Fig. 6: R (Monte Carlo) and L̃ on the grid with both valleys (contours at round levels), and
    (R − L̃)/R, each scale with its colour bar; the legend in the fourth place. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.lines import Line2D

    ls, valley = st.landscape, st.valley
    w, m = ls.omega, ls.mu
    floor = theory.approx_floor(ls.d, ls.L, ls.sigma2)
    levels = sorted({_round_level(floor * f) for f in _LEVELS})
    fig, axes = plt.subplots(2, 2, figsize=figsize(2, 2, aspect=0.8, width=FULL_WIDTH))
    extent = [w[0], w[-1], m[0], m[-1]]
    norm = LogNorm(vmin=0.9 * floor, vmax=90 * floor)
    for ax, grid, name in zip(
        axes[0],
        (ls.true, ls.approx),
        ("true loss $R(\\omega,\\mu)$ (Monte Carlo)", "approximate loss $\\tilde{\\mathcal{L}}$ (4.1)"),
    ):
        im = ax.imshow(grid.mean.T, origin="lower", extent=extent, aspect="auto", cmap="viridis", norm=norm)
        cs = ax.contour(w, m, grid.mean.T, levels=levels, colors="white", linewidths=0.7)
        ax.clabel(cs, fmt="%g", fontsize=MIN_FONT_PT)
        ax.plot(w, valley.mu, color=SIGN[+1], lw=2, zorder=5)
        ax.plot(w, valley.mu_approx, color=_APPROX_VALLEY, lw=2, ls="--", zorder=5)
        ax.set(title=name, xlabel=r"$\omega$", ylabel=r"$\mu$")
    fig.colorbar(im, ax=axes[0, 1], label="loss (log scale)", shrink=0.9)
    ax = axes[1, 0]
    im = ax.imshow(ls.rel.T, origin="lower", extent=extent, aspect="auto", cmap="RdBu_r", vmin=-0.5, vmax=0.5)
    ax.contour(w, m, ls.rel.T, levels=[-0.1, 0.1], colors="k", linewidths=0.9, linestyles=":")
    ax.plot(w, valley.mu_approx, color=_APPROX_VALLEY, lw=2, ls="--", zorder=5)
    ax.set(title=r"$(R - \tilde{\mathcal{L}})/R$", xlabel=r"$\omega$", ylabel=r"$\mu$")
    fig.colorbar(im, ax=ax, label=r"$(R - \tilde{\mathcal{L}})/R$, clipped at $\pm 0.5$", shrink=0.9)
    for a in axes.flat[:3]:
        a.grid(False)
        a.set_ylim(m[0], m[-1])
    handles = [
        Line2D([], [], color=SIGN[+1], lw=2, label=r"valley of $R$: $\arg\min_\mu R$"),
        Line2D(
            [], [], color=_APPROX_VALLEY, lw=2, ls="--", label=r"valley of $\tilde{\mathcal{L}}$: $\mu^*(\omega)$ (4.6)"
        ),
        Line2D([], [], color="k", lw=0.9, ls=":", label=r"$(R - \tilde{\mathcal{L}})/R = \pm 0.1$"),
    ]
    axes[1, 1].axis("off")
    axes[1, 1].legend(handles=handles, loc="center", title=rf"$d = {ls.d}$, $L = {ls.L}$, $\sigma^2 = {ls.sigma2:g}$")
    return fig


def plot_valley(st: Study, n_mu: int = 301):
    """Slices of R (bands ±2 s.e.) and L̃ at the grid ω nearest each of the budget's `slice_omegas`;
    the loss along both valleys with their ω → 0 limits (references), and their difference with the
    crossing marked. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    ls, valley, slice_omegas = st.landscape, st.valley, st.ch.budget.slice_omegas
    d, L, s2 = ls.d, ls.L, ls.sigma2
    floor = theory.approx_floor(d, L, s2)
    fine = np.linspace(ls.mu[0], ls.mu[-1], n_mu)
    true, approx = ls.slices(fine)
    fig, axes = plt.subplots(2, 2, figsize=figsize(2, 2, aspect=0.72, width=FULL_WIDTH))
    ax = axes[0, 0]
    colours = config_colours(len(slice_omegas))
    slice_handles = []
    for w, col in zip(slice_omegas, colours):
        i = int(np.argmin(np.abs(ls.omega - w)))
        ax.plot(fine, true.mean[i], color=col, lw=2)
        ax.fill_between(fine, true.mean[i] - 2 * true.se[i], true.mean[i] + 2 * true.se[i], color=col, alpha=0.2)
        ax.plot(fine, approx.mean[i], color=col, lw=1.5, ls="--")
        slice_handles.append(Line2D([], [], color=col, lw=2.2, label=rf"$\omega = {ls.omega[i]:.2f}$"))
    slice_handles += [
        Line2D([], [], color="0.3", lw=2, label=r"$R$ (band $\pm 2$ s.e.)"),
        Line2D([], [], color="0.3", lw=1.5, ls="--", label=r"$\tilde{\mathcal{L}}$"),
    ]
    ax.set(xlabel=r"$\mu$", ylabel="loss", ylim=(0.7 * floor, 1.1 + s2), title=r"slices at fixed $\omega$")
    true_c, approx_c = SIGN[+1], _APPROX_VALLEY
    ax = axes[0, 1]
    ax.plot(valley.omega, valley.loss, color=true_c, lw=2)
    ax.fill_between(
        valley.omega, valley.loss - 2 * valley.loss_se, valley.loss + 2 * valley.loss_se, color=true_c, alpha=0.2
    )
    ax.plot(valley.omega, valley.loss_approx, color=approx_c, lw=2, ls="--")
    reference(ax, theory.dgd_risk(theory.eta_eff(d, L, s2), d, L, s2), kind="dgd", label="")
    reference(ax, floor, kind="floor", label="")
    ax.set(xlabel=r"$\omega$", ylabel="loss along the valley")
    ax.set_title("the valley floors", pad=15)
    ax = axes[1, 0]
    diff = valley.loss_approx - valley.loss
    ax.plot(valley.omega, diff, color="k", lw=2)
    ax.fill_between(valley.omega, diff - 2 * valley.loss_se, diff + 2 * valley.loss_se, color="0.5", alpha=0.25)
    ax.axhline(0, color="0.3", lw=0.9, zorder=1)
    cross = np.flatnonzero(np.diff(np.sign(diff)) != 0)
    for k in cross:  # linear interpolation between the grid points around each sign change
        w0, w1, d0, d1 = valley.omega[k], valley.omega[k + 1], diff[k], diff[k + 1]
        wc = w0 - d0 * (w1 - w0) / (d1 - d0)
        for a in (axes[0, 1], ax):
            mark(a, wc, rf"cross at $\omega \approx {wc:.2f}$")
    ax.set(xlabel=r"$\omega$", ylabel=r"$\min_\mu \tilde{\mathcal{L}} - \min_\mu R$")
    ax.set_title("their difference", pad=15)
    handles = [
        Line2D([], [], color=true_c, lw=2, label=r"true: $\min_\mu R(\omega, \mu)$ ($\pm 2$ s.e.)"),
        Line2D(
            [], [], color=approx_c, lw=2, ls="--", label=r"approximate: $\min_\mu \tilde{\mathcal{L}}$ on $S(\omega)$"
        ),
        reference_handle("dgd", r"debiased GD at $\eta_{\mathrm{eff}}$ ($R$ as $\omega\to 0$)"),
        reference_handle("floor", r"$1+\sigma^2-\eta_{\mathrm{eff}}$ ($\tilde{\mathcal{L}}$ as $\omega\to 0$)"),
    ]
    axes[1, 1].axis("off")
    first = axes[1, 1].legend(handles=slice_handles, loc="upper left", title="slices", ncol=2)
    axes[1, 1].add_artist(first)
    axes[1, 1].legend(handles=handles, loc="lower left", title="valley floors")
    return fig


def plot_error_vs_length(st: Study):
    """|R − L̃| at (ω, μ*(ω)) against L for every ω of the error table (bars ±2 s.e.), with η_eff/L
    (the ω → 0 limit) above them; right: each error over that limit. Returns the figure."""
    import matplotlib.pyplot as plt

    table = st.errors
    fig, axes = plt.subplots(1, 2, figsize=figsize(2, aspect=0.8, width=FULL_WIDTH), sharex=True)
    omegas = table["omega"].unique()
    for w, col in zip(omegas, config_colours(len(omegas))):
        e = table[table["omega"] == w]
        kw = dict(color=col, marker="o", ms=4, capsize=3, label=rf"$|R-\tilde{{\mathcal{{L}}}}|$ at $\omega = {w:g}$")
        axes[0].errorbar(e["L"], e["error"].abs(), yerr=2 * e["se"], **kw)
        axes[1].errorbar(e["L"], e["error"].abs() / e["limit"], yerr=2 * e["se"] / e["limit"], **kw)
    e = table[table["omega"] == omegas[0]]
    reference(axes[0], e["L"], e["limit"], "theory", label=r"$\eta_{\mathrm{eff}}/L$ (the $\omega\to 0$ limit)")
    reference(axes[1], 1.0, kind="theory", label="")
    axes[0].set(xscale="log", yscale="log", xlabel="prompt length $L$", ylabel="approximation error", title="the error")
    axes[1].set(
        xlabel="prompt length $L$", ylabel=r"error $/\ (\eta_{\mathrm{eff}}/L)$", title=r"over $\eta_{\mathrm{eff}}/L$"
    )
    legend_outside(fig, handles=axes[0].get_legend_handles_labels()[0], loc="outside lower center", ncol=2)
    return fig


def _math_title(title: str) -> str:
    """A regime's title ('fixed d = 5, ω = 0.3') with its symbols in mathtext."""
    sub = {"ω": r"\omega", "·": r"\cdot ", "√(5/d)": r"\sqrt{5/d}"}

    def part(p: str) -> str:
        head = re.match(r"^(fixed )?(.*)$", p)
        prefix, eq = (head.group(1) or ""), head.group(2)
        for k, v in sub.items():
            eq = eq.replace(k, v)
        return f"{prefix}${eq}$"

    return ", ".join(part(p) for p in title.split(", "))


def plot_softmax_norms(st: Study):
    """Fig. 20: histograms of ‖p‖² per regime (one row each, titled by `st.titles`), one colour per
    (L, d); dashed, in the same colour: e^{dω²}/L (capped at 1). Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    sweep, titles = st.sweep, st.titles
    n = len(sweep.regimes)
    fig, axes = plt.subplots(n, 1, figsize=figsize(1, n, aspect=0.36, width=FULL_WIDTH), sharex=True, squeeze=False)
    largest = max(L_ for pts in sweep.regimes.values() for L_, _, _ in pts)
    bins = np.logspace(np.log10(0.5 / largest), 0, 70)
    for ax, (name, points) in zip(axes[:, 0], sweep.regimes.items()):
        colours = config_colours(len(points))
        for (L_, d_, w_), p2, col in zip(points, sweep.norms[name], colours):
            ax.hist(p2, bins=bins, color=col, alpha=0.55, label=f"$L = {L_}$, $d = {d_}$")
            ax.axvline(min(math.exp(d_ * w_**2) / L_, 1.0), color=col, ls="--", lw=1.6, zorder=5)
        handles = ax.get_legend_handles_labels()[0]
        handles.append(Line2D([], [], color="0.3", ls="--", lw=1.6, label=r"$e^{d\omega^2}/L$ (capped at 1)"))
        ax.set(xscale="log", ylabel="prompts", title=_math_title(titles[name]))
        legend_outside(ax, handles=handles)
    axes[-1, 0].set_xlabel(r"$\|\mathrm{softmax}(\omega X x_q)\|_2^2$")
    return fig


def plot_true_vs_approx(st: Study):
    """Fig. 21: ω_h and μ_h of the full model (Adam on the true loss) and of GD on L̃ from the same
    start; each head coloured by the sign of the full model's end point, heads of one sign told apart
    by line style, in both runs. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    tva = st.tva
    groups = head_groups(tva.omega[-1], tva.mu[-1])
    styles = head_styles(groups)
    fig, axes = plt.subplots(2, 2, figsize=figsize(2, 2, aspect=0.62, width=FULL_WIDTH), sharex="col")
    runs = (
        (np.maximum(tva.steps, 1), tva.omega, tva.mu),
        (np.maximum(tva.traj.steps, 1), tva.traj.omega[:, 0], tva.traj.mu[:, 0]),
    )
    for col, (steps, w, m) in enumerate(runs):
        for h in range(w.shape[1]):
            kw = dict(color=SIGN[int(groups[h])], ls=styles[h], lw=1.8)
            axes[0, col].plot(steps, w[:, h], **kw)
            axes[1, col].plot(steps, m[:, h], **kw)
        for a in axes[:, col]:
            a.axhline(0, color="0.6", lw=0.6, zorder=1)
    axes[0, 0].set(title="full model, true loss (Adam)", ylabel=r"$\omega_h$")
    axes[1, 0].set(xscale="log", xlabel="Adam step", ylabel=r"$\mu_h$")
    axes[0, 1].set(title=r"GD on $\tilde{\mathcal{L}}$, same start", ylabel=r"$\omega_h$")
    axes[1, 1].set(xscale="log", xlabel="GD step", ylabel=r"$\mu_h$")
    handles = [
        Line2D([], [], color=SIGN[int(g)], ls=s, lw=1.8, label=f"head {h + 1} ({SIGN_NAME[int(g)]})")
        for h, (g, s) in enumerate(zip(groups, styles))
    ]
    legend_outside(
        fig,
        handles=handles,
        loc="outside lower center",
        ncol=min(len(handles), 4),
        title="sign at the full model's end",
    )
    return fig
