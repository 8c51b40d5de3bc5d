"""Chapter 07's figures, each a function of the `Study` returning a matplotlib Figure."""

from __future__ import annotations

import numpy as np

from ...core import theory
from .analysis import Study

__all__ = ["plot_proportional", "plot_gd_dgd", "plot_single_head"]


def plot_proportional(st: Study):
    """Left: the GD and Bayes limits against ξ with the Monte Carlo at the largest d (markers), for
    every σ² of the grid; right: the proportional factor (limit, and the finite-d values). Returns
    the figure."""
    import matplotlib.pyplot as plt

    grid = st.grid
    sigma2s = sorted(grid.sigma2.unique())
    xx = np.geomspace(0.02, 2, 200)
    dmax = int(grid.d.max())
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
    for k, s2 in enumerate(sigma2s):
        col, g = f"C{k}", grid[np.isclose(grid.sigma2, s2) & (grid.d == dmax)]
        axes[0].plot(xx, theory.gd_risk_asymptotic(xx, s2), color=col, label=f"GD limit, $\\sigma^2 = {s2:g}$")
        axes[0].plot(
            xx, theory.bayes_risk_asymptotic(xx, s2), color=col, ls="--", label=f"Bayes limit, $\\sigma^2 = {s2:g}$"
        )
        axes[0].plot(g.xi, g.dgd_exact, "o", color=col, ms=5)
        axes[0].plot(g.xi, g.bayes_mc, "s", color=col, ms=5, mfc="white")
        axes[1].plot(
            xx,
            theory.gd_risk_asymptotic(xx, s2) / theory.bayes_risk_asymptotic(xx, s2),
            color=col,
            label=f"$\\sigma^2 = {s2:g}$",
        )
        axes[1].plot(g.xi, g.factor, "o", color=col, ms=5)
    axes[0].set(xscale="log", xlabel=r"$\xi = d/L$", ylabel="risk", title=f"risks (markers: $d = {dmax}$)")
    axes[0].legend(fontsize=7, ncol=2)
    axes[1].set(xscale="log", xlabel=r"$\xi = d/L$", ylabel="dGD risk / Bayes risk", title="the proportional factor")
    axes[1].legend(fontsize=8)
    return fig


def plot_gd_dgd(st: Study, threshold: float = 0.01):
    """Left: relative excess risk of dGD(η_eff) over GD(η*) against L per d; right: the mean-square
    difference of the two predictors over the risk. Returns the figure."""
    import matplotlib.pyplot as plt

    curves = st.gd_dgd[0]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for k, (d, (Lk, rel, msd)) in enumerate(curves.items()):
        axes[0].plot(Lk, rel, color=f"C{k}", label=f"$d = {d}$")
        axes[1].plot(Lk, msd, color=f"C{k}", label=f"$d = {d}$")
    axes[0].axhline(threshold, color="0.5", ls=":", lw=1)
    axes[0].set(ylabel="relative excess risk", title=r"dGD($\eta_\mathrm{eff}$) over optimal vanilla GD($\eta^*$)")
    axes[1].set(
        ylabel=r"$\mathbb{E}(\hat y_{\mathrm{dGD}} - \hat y_{\mathrm{GD}})^2$ / risk",
        title="how far apart the two predictors are",
    )
    for ax in axes:
        ax.set(xscale="log", yscale="log", xlabel="number of examples $L$")
        ax.legend(fontsize=8)
    return fig


def plot_single_head(st: Study):
    """True risk at the best μ (Monte Carlo) and (4.1) against ω, with the trained single heads
    (|ω|, risk) as stars. Returns the figure."""
    import matplotlib.pyplot as plt

    sh, d, L, sigma2 = st.single_head, st.ch.d, st.ch.L, st.ch.sigma2
    trained = [(abs(p.omega[0]), r) for p, r in zip(*st.trained_single_heads)]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(sh.omegas, sh.best_mu_risk[:-1], "o-", label="true risk, best $\\mu$ (MC)")
    ax.plot(
        sh.omegas,
        theory.single_head_loss(sh.omegas, d, L, sigma2),
        "--",
        label=r"approximate loss $\tilde{\mathcal{L}}$ (4.1)",
    )
    for k, (w, r) in enumerate(trained):
        ax.plot(w, r, "k*", ms=10, label="trained single head" if k == 0 else None)
    ax.axvline(sh.w, color="0.5", ls=":", lw=1)
    ax.set(xlabel=r"KQ scale $|\omega|$", ylabel="risk", title=f"single head at $L = {L}$: true risk vs (4.1)")
    ax.legend(fontsize=8)
    return fig
