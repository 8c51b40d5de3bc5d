"""Chapter 07's figures, each a function of the `Study` returning a matplotlib Figure, in the book's
visual language (`icl.book.style`): one colour per configuration (σ², d), references (GD, Bayes,
theory) in their fixed dash patterns above the data, and beside each comparison with a reference a
panel of the difference to it."""

from __future__ import annotations

import numpy as np

from ...book import style
from ...core import theory
from .analysis import Study

__all__ = ["plot_proportional", "plot_gd_dgd", "plot_single_head"]


def plot_proportional(st: Study):
    """Top left: the limits of the optimal GD risk and of the Bayes risk against ξ (one colour per
    σ², GD's and Bayes' dash patterns), with debiased GD's exact risk (filled) and the Bayes Monte
    Carlo (open) at the largest d; top right: the proportional factor (limit, and its finite-d
    values); bottom left: the finite-d values relative to their limits, finite / limit − 1 (Bayes
    ± 2 s.e.). Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    grid = st.grid
    sigma2s = sorted(grid.sigma2.unique())
    cols = dict(zip(sigma2s, style.config_colours(len(sigma2s))))
    xx = np.geomspace(0.02, 2, 200)
    dmax = int(grid.d.max())
    fig, axes = plt.subplots(2, 2, figsize=style.figsize(2, 2, width=style.FULL_WIDTH, aspect=0.72))
    ax_r, ax_f, ax_d, ax_leg = axes.flat
    for s2 in sigma2s:
        col, g = cols[s2], grid[np.isclose(grid.sigma2, s2) & (grid.d == dmax)]
        gd_lim, bayes_lim = theory.gd_risk_asymptotic(xx, s2), theory.bayes_risk_asymptotic(xx, s2)
        style.reference(ax_r, xx, gd_lim, "gd", label="", color=col)
        style.reference(ax_r, xx, bayes_lim, "bayes", label="", color=col)
        ax_r.plot(g.xi, g.dgd_exact, "o", color=col, ms=5, zorder=7)
        ax_r.plot(g.xi, g.bayes_mc, "s", color=col, ms=5, mfc="white", zorder=7)
        style.reference(ax_f, xx, gd_lim / bayes_lim, "theory", label="", color=col)
        ax_f.plot(g.xi, g.factor, "o", color=col, ms=5, zorder=7)
        ax_d.plot(g.xi, g.dgd_exact / g.dgd_limit - 1, "o-", color=col, ms=5, lw=1.2)
        ax_d.errorbar(
            g.xi,
            g.bayes_mc / g.bayes_limit - 1,
            yerr=2 * g.bayes_se / g.bayes_limit,
            fmt="s--",
            color=col,
            ms=5,
            mfc="white",
            lw=1.2,
            capsize=2,
        )
    ax_r.set(xscale="log", xlabel=r"$\xi = d/L$", ylabel="risk", title="risks and their limits")
    ax_f.set(
        xscale="log", xlabel=r"$\xi = d/L$", ylabel=r"$\mathcal{R}_{\mathrm{dGD}}\,/\,\mathcal{R}_{\mathrm{Bayes}}$"
    )
    ax_f.set_title("the proportional factor")
    ax_d.axhline(0, color="k", lw=0.8)
    ax_d.set(
        xscale="log",
        xlabel=r"$\xi = d/L$",
        ylabel="finite $d$ / limit − 1",
        title=f"distance to the limits at $d = {dmax}$",
    )
    ax_leg.axis("off")
    handles = [Line2D([], [], color=c, lw=2.2, label=f"$\\sigma^2 = {s2:g}$") for s2, c in cols.items()]
    handles += [
        style.reference_handle("gd", "optimal GD, limit (D.33)", color="0.3"),
        style.reference_handle("bayes", "Bayes, limit (D.36)", color="0.3"),
        style.reference_handle("theory", "factor, limit", color="0.3"),
        Line2D([], [], color="0.3", marker="o", ls="none", label=f"debiased GD, exact, $d = {dmax}$"),
        Line2D([], [], color="0.3", marker="s", mfc="white", ls="none", label=f"Bayes, Monte Carlo, $d = {dmax}$"),
    ]
    ax_leg.legend(handles=handles, loc="center", frameon=False)
    return fig


def plot_gd_dgd(st: Study, threshold: float = 0.01):
    """Left: relative excess risk of dGD(η_eff) over GD(η*), R_dGD / R_GD − 1, against L per d (one
    colour each), with the threshold; right: the mean-square difference of the two predictors over
    the risk. One legend beside the panels. Returns the figure."""
    import matplotlib.pyplot as plt

    curves = st.gd_dgd[0]
    cols = dict(zip(curves, style.config_colours(len(curves))))
    fig, axes = plt.subplots(1, 2, figsize=style.figsize(2, width=style.FULL_WIDTH, aspect=0.8))
    for d, (Lk, rel, msd) in curves.items():
        axes[0].plot(Lk, rel, color=cols[d], label=f"$d = {d}$")
        axes[1].plot(Lk, msd, color=cols[d])
    style.reference(axes[0], threshold, kind="floor", label=f"{threshold:.0%} threshold")
    axes[0].set(
        ylabel=r"$\mathcal{R}_{\mathrm{dGD}}(\eta_{\mathrm{eff}})\,/\,\mathcal{R}_{\mathrm{GD}}(\eta^*) - 1$",
        title="relative excess risk",
    )
    axes[1].set(
        ylabel=r"$\mathbb{E}(\hat y_{\mathrm{dGD}} - \hat y_{\mathrm{GD}})^2$ / risk",
        title="distance between the predictors",
    )
    for ax in axes:
        ax.set(xscale="log", yscale="log", xlabel="number of examples $L$")
    style.legend_outside(fig, loc="outside lower center", ncol=5)
    return fig


def plot_single_head(st: Study):
    """Left: the true risk at the best μ (Monte Carlo) against ω, the approximate loss (4.1) as a
    reference above it, the trained single heads (|ω|, risk) as stars and the optimum ω = 1/√d of
    (4.1) marked; right: the true risk minus (4.1). Returns the figure."""
    import matplotlib.pyplot as plt

    sh, d, L, sigma2 = st.single_head, st.ch.d, st.ch.L, st.ch.sigma2
    trained = [(abs(p.omega[0]), r) for p, r in zip(*st.trained_single_heads)]
    approx = theory.single_head_loss(sh.omegas, d, L, sigma2)
    true = np.asarray(sh.best_mu_risk[:-1])
    col = style.config_colours(1)[0]
    fig, axes = plt.subplots(
        1, 2, figsize=style.figsize(2, width=style.FULL_WIDTH, aspect=0.8), gridspec_kw={"width_ratios": [3, 2]}
    )
    ax = axes[0]
    ax.plot(sh.omegas, true, "o-", color=col, ms=4, label=r"true risk, best $\mu$ (Monte Carlo)")
    style.reference(ax, sh.omegas, approx, "theory", label=r"approximate loss $\tilde{\mathcal{L}}$ (4.1)")
    for k, (w, r) in enumerate(trained):
        ax.plot(w, r, "*", color="k", ms=11, zorder=8, label="trained single heads" if k == 0 else None)
    ax.set(xlabel=r"KQ scale $|\omega|$", ylabel="risk")
    ax.set_title(f"single head, $L = {L}$", pad=16)
    axes[1].plot(sh.omegas, true - approx, "o-", color=col, ms=4)
    axes[1].axhline(0, color="k", lw=0.8)
    axes[1].set(xlabel=r"KQ scale $|\omega|$", ylabel=r"true risk $-\ \tilde{\mathcal{L}}$")
    axes[1].set_title("true risk minus (4.1)", pad=16)
    for a in axes:
        style.mark(a, sh.w, r"$\omega = 1/\sqrt{d}$")
    style.legend_outside(fig, loc="outside lower center", ncol=3)
    return fig
