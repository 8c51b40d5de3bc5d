"""Chapter 03's figures, drawn from the `Study`: one `plot_*(st)` per glued figure, each returning it."""

from __future__ import annotations

import math

import numpy as np

from ...core import theory
from .analysis import Study

__all__ = ["plot_landscapes", "plot_valley", "plot_error_vs_length", "plot_softmax_norms", "plot_true_vs_approx"]

_LEVELS = (1.04, 1.13, 1.36, 1.81, 2.7, 4.5, 9.0, 22.6)  # contour levels as multiples of L̃'s floor


def plot_landscapes(st: Study):
    """Fig. 6: R (Monte Carlo) and L̃ on the grid with both valleys, and (R − L̃)/R. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    ls, valley = st.landscape, st.valley
    w, m = ls.omega, ls.mu
    floor = theory.approx_floor(ls.d, ls.L, ls.sigma2)
    fig, axes = plt.subplots(1, 3, figsize=(14.5, 4.4), sharey=True)
    extent = [w[0], w[-1], m[0], m[-1]]
    norm = LogNorm(vmin=0.9 * floor, vmax=90 * floor)
    for ax, grid, name in zip(
        axes[:2],
        (ls.true, ls.approx),
        ("true loss $R(\\omega,\\mu)$ (Monte Carlo)", "approximate loss $\\tilde{\\mathcal{L}}$ (4.1)"),
    ):
        im = ax.imshow(grid.mean.T, origin="lower", extent=extent, aspect="auto", cmap="viridis", norm=norm)
        cs = ax.contour(w, m, grid.mean.T, levels=[floor * f for f in _LEVELS], colors="white", linewidths=0.7)
        ax.clabel(cs, fmt="%.2f", fontsize=7)
        ax.plot(w, valley.mu, color="tab:red", lw=2, label=r"valley of $R$: $\arg\min_\mu R$")
        ax.plot(
            w,
            valley.mu_approx,
            color="white",
            lw=2,
            ls="--",
            label=r"valley of $\tilde{\mathcal{L}}$: $\mu^*(\omega)$ (4.6)",
        )
        ax.set(title=name, xlabel=r"$\omega$")
    axes[0].set_ylabel(r"$\mu$")
    axes[0].legend(loc="upper right", fontsize=8, framealpha=0.8)
    fig.colorbar(im, ax=axes[:2], label="loss (log scale)", shrink=0.85)
    im = axes[2].imshow(ls.rel.T, origin="lower", extent=extent, aspect="auto", cmap="RdBu_r", vmin=-0.5, vmax=0.5)
    cs = axes[2].contour(w, m, ls.rel.T, levels=[-0.1, 0.1], colors="k", linewidths=0.8, linestyles=":")
    axes[2].clabel(cs, fmt="%.1f", fontsize=7)
    axes[2].plot(w, valley.mu_approx, color="k", lw=1.5, ls="--", label=r"$\mu^*(\omega)$")
    axes[2].set(title=r"relative difference $(R - \tilde{\mathcal{L}})/R$", xlabel=r"$\omega$")
    axes[2].legend(loc="upper right", fontsize=8)
    fig.colorbar(im, ax=axes[2], label=r"$(R - \tilde{\mathcal{L}})/R$ (clipped at ±0.5)", shrink=0.85)
    for ax in axes:
        ax.grid(False)
        ax.set_ylim(m[0], m[-1])
    fig.suptitle(f"The loss landscape of the two-head model (d = {ls.d}, L = {ls.L}, σ² = {ls.sigma2:g})")
    return fig


def plot_valley(st: Study, n_mu: int = 301):
    """Slices of R and L̃ at the grid ω nearest each of the budget's `slice_omegas` (bands ±2 s.e.),
    and the loss along both valleys with their ω → 0 limits. Returns the figure."""
    import matplotlib.pyplot as plt

    ls, valley, slice_omegas = st.landscape, st.valley, st.ch.budget.slice_omegas
    d, L, s2 = ls.d, ls.L, ls.sigma2
    floor = theory.approx_floor(d, L, s2)
    fine = np.linspace(ls.mu[0], ls.mu[-1], n_mu)
    true, approx = ls.slices(fine)
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.2))
    ax = axes[0]
    for w, col in zip(slice_omegas, plt.cm.tab10(np.arange(len(slice_omegas)))):
        i = int(np.argmin(np.abs(ls.omega - w)))
        ax.plot(fine, true.mean[i], color=col, lw=2, label=rf"$R$, $\omega$ = {ls.omega[i]:.2f}")
        ax.fill_between(fine, true.mean[i] - 2 * true.se[i], true.mean[i] + 2 * true.se[i], color=col, alpha=0.2)
        ax.plot(
            fine,
            approx.mean[i],
            color=col,
            lw=1.5,
            ls="--",
            label=rf"$\tilde{{\mathcal{{L}}}}$, $\omega$ = {ls.omega[i]:.2f}",
        )
    ax.set(
        xlabel=r"$\mu$",
        ylabel="loss",
        ylim=(0.7 * floor, 1.1 + s2),
        title=r"slices at fixed $\omega$ (band: $\pm 2$ s.e.)",
    )
    ax.legend(fontsize=8, ncol=2)
    ax = axes[1]
    ax.plot(valley.omega, valley.loss, color="tab:red", lw=2, label=r"true: $\min_\mu R(\omega, \mu)$")
    ax.fill_between(
        valley.omega, valley.loss - 2 * valley.loss_se, valley.loss + 2 * valley.loss_se, color="tab:red", alpha=0.2
    )
    ax.plot(
        valley.omega,
        valley.loss_approx,
        color="k",
        lw=2,
        ls="--",
        label=r"approximate: $\min_\mu \tilde{\mathcal{L}}$ (on $S(\omega)$)",
    )
    ax.axhline(
        theory.dgd_risk(theory.eta_eff(d, L, s2), d, L, s2),
        color="tab:red",
        lw=1,
        ls=":",
        label=r"debiased GD at $\eta_\mathrm{eff}$ (exact; $R$ as $\omega\to 0$)",
    )
    ax.axhline(
        floor, color="k", lw=1, ls=":", label=r"$1+\sigma^2-\eta_\mathrm{eff}$ ($\tilde{\mathcal{L}}$ as $\omega\to 0$)"
    )
    ax.set(xlabel=r"$\omega$", ylabel="loss along the valley", title="the river valley slopes towards ω → 0")
    ax.legend(fontsize=8)
    return fig


def plot_error_vs_length(st: Study):
    """|R − L̃| at (ω, μ*(ω)) against L for every ω of the error table (bars ±2 s.e.), and η_eff/L."""
    import matplotlib.pyplot as plt

    table = st.errors
    fig, ax = plt.subplots(figsize=(6.2, 4))
    omegas = table["omega"].unique()
    for w, col in zip(omegas, plt.cm.tab10(np.arange(len(omegas)))):
        e = table[table["omega"] == w]
        ax.errorbar(
            e["L"],
            e["error"].abs(),
            yerr=2 * e["se"],
            color=col,
            marker="o",
            capsize=3,
            label=rf"$|R-\tilde{{\mathcal{{L}}}}|$ at $\omega$ = {w:g}",
        )
    e = table[table["omega"] == omegas[0]]
    ax.plot(e["L"], e["limit"], "k--", lw=1, label=r"$\eta_\mathrm{eff}/L$ (the $\omega\to 0$ limit)")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="prompt length $L$",
        ylabel="approximation error",
        title="Prop. 4.1: the error vanishes as L grows",
    )
    ax.legend(fontsize=8)
    return fig


def plot_softmax_norms(st: Study):
    """Fig. 20: histograms of ‖p‖² per regime (titled by `st.titles`), dashed: e^{dω²}/L (capped at 1)."""
    import matplotlib.pyplot as plt

    sweep, titles = st.sweep, st.titles
    fig, axes = plt.subplots(1, len(sweep.regimes), figsize=(5 * len(sweep.regimes), 4))
    largest = max(L_ for pts in sweep.regimes.values() for L_, _, _ in pts)
    bins = np.logspace(np.log10(0.5 / largest), 0, 70)
    for ax, (name, points) in zip(np.atleast_1d(axes), sweep.regimes.items()):
        for k, ((L_, d_, w_), p2) in enumerate(zip(points, sweep.norms[name])):
            col = plt.cm.viridis(k / len(points))
            ax.hist(p2, bins=bins, color=col, alpha=0.55, label=f"L = {L_}, d = {d_}")
            ax.axvline(min(math.exp(d_ * w_**2) / L_, 1.0), color=col, ls="--", lw=1.5)
        ax.set(xscale="log", xlabel=r"$\|\mathrm{softmax}(\omega X x_q)\|_2^2$", ylabel="prompts", title=titles[name])
        ax.legend(fontsize=7)
    fig.suptitle(r"Softmax vector norms; dashed: the prediction $e^{d\omega^2}/L$ (capped at 1)")
    return fig


def plot_true_vs_approx(st: Study):
    """Fig. 21: ω_h and μ_h of the full model (Adam on the true loss) and of GD on L̃ from the same start."""
    import matplotlib.pyplot as plt

    tva = st.tva
    fig, axes = plt.subplots(2, 2, figsize=(12.5, 6.5), sharex="col")
    runs = (
        (np.maximum(tva.steps, 1), tva.omega, tva.mu),
        (np.maximum(tva.traj.steps, 1), tva.traj.omega[:, 0], tva.traj.mu[:, 0]),
    )
    for col, (steps, w, m) in enumerate(runs):
        for h, colour in enumerate(plt.cm.tab10(np.arange(w.shape[1]))):
            axes[0, col].plot(steps, w[:, h], color=colour, lw=2, label=f"head {h + 1}")
            axes[1, col].plot(steps, m[:, h], color=colour, lw=2)
    axes[0, 0].set(title="full model, true loss (Adam)", ylabel=r"$\omega_h$")
    axes[1, 0].set(xscale="log", xlabel="Adam step", ylabel=r"$\mu_h$")
    axes[0, 1].set(title=r"gradient descent on $\tilde{\mathcal{L}}$, same start", ylabel=r"$\omega_h$")
    axes[1, 1].set(xscale="log", xlabel="GD step", ylabel=r"$\mu_h$")
    axes[0, 0].legend(fontsize=8)
    return fig
