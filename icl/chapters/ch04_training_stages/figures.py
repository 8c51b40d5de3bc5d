"""Chapter 04's figures, each a function of the `Study` returning a matplotlib Figure."""

from __future__ import annotations

import numpy as np

from ...core import theory
from ...core.dynamics import pattern_metrics
from .analysis import Study

__all__ = ["plot_trajectories", "plot_trap", "plot_manifold"]


def plot_trajectories(st: Study):
    """One row per head count (its first run): ω_h, μ_h, and the pattern measures, with the end of
    Stage I (grey), zero-sum reached (red dashed) and homogeneity reached (green dotted)."""
    import matplotlib.pyplot as plt

    results, eta_eff, lr = st.runs, st.ch.eta_eff, st.ch.budget.lr
    Hs = list(results)
    fig, axes = plt.subplots(len(Hs), 3, figsize=(15, 3.4 * len(Hs)), sharex=True, squeeze=False)
    for row, H in enumerate(Hs):
        tr, times, ax = results[H].traj, results[H].times, axes[row]
        x = np.maximum(tr.steps, 1)
        for h in range(H):
            ax[0].plot(x, tr.omega[:, 0, h], lw=1.8, label=f"head {h + 1}")
            ax[1].plot(x, tr.mu[:, 0, h], lw=1.8)
        sign, zs, spread = pattern_metrics(tr.omega[:, 0], tr.mu[:, 0])
        ax[2].plot(
            x,
            np.einsum("sh,sh->s", tr.omega[:, 0], tr.mu[:, 0]) / eta_eff,
            "k",
            lw=2,
            label=r"$\langle\omega,\mu\rangle/\eta_\mathrm{eff}$",
        )
        ax[2].plot(x, sign, color="tab:purple", lw=1.5, label="sign-matching fraction")
        ax[2].plot(x, zs, color="tab:red", lw=1.5, label=r"$|\sum_h\mu_h|/\sum_h|\mu_h|$")
        ax[2].plot(x, spread, color="tab:green", lw=1.5, label=r"spread of $|\omega_h|$")
        ax[2].set_ylim(-0.05, 1.1)
        for a in ax:
            a.axvline(max(times.stage1_end[0], 1), color="grey", lw=2, alpha=0.7)
            for when, col, ls in ((times.zero_sum[0], "tab:red", "--"), (times.homogeneous[0], "tab:green", ":")):
                if when >= 0:
                    a.axvline(max(when, 1), color=col, ls=ls, lw=1.3)
        ax[0].set_ylabel(rf"$H = {H}$" + "\n" + r"$\omega_h$")
        ax[1].set_ylabel(r"$\mu_h$")
        ax[0].legend(fontsize=7, ncol=2)
    for a, title in zip(axes[0], (r"KQ scales $\omega_h$", r"OV weights $\mu_h$", "pattern measures")):
        a.set_title(title)
    axes[0, 2].legend(fontsize=7, loc="center right")
    for a in axes[-1]:
        a.set(xscale="log", xlabel=f"GD step (step size {lr:g})")
    return fig


def plot_trap(st: Study):
    """The two-head run from a one-signed start: ω_h against ±1/√d, and μ_h."""
    import matplotlib.pyplot as plt

    tr, d = st.trap.example, st.ch.d
    x = np.maximum(tr.steps, 1)
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.4), sharex=True)
    for h in range(tr.omega.shape[-1]):
        ax[0].plot(x, tr.omega[:, 0, h], lw=2, label=f"head {h + 1}")
        ax[1].plot(x, tr.mu[:, 0, h], lw=2)
    w1 = 1 / np.sqrt(d)
    ax[0].axhline(w1, color="k", ls=":", lw=1, label=r"$\pm 1/\sqrt{d}$ (single-head optimum)")
    ax[0].axhline(-w1, color="k", ls=":", lw=1)
    ax[0].set(xscale="log", xlabel="GD step", ylabel=r"$\omega_h$", title="a two-head run from a one-signed start")
    ax[1].set(xscale="log", xlabel="GD step", ylabel=r"$\mu_h$", title="its OV weights")
    ax[0].legend(fontsize=8)
    return fig


def plot_manifold(st: Study):
    """The end points of the runs that split against S(ω): μ*(ω) (4.6), η(ω) = 2ωμ*(ω) and L̃ on S(ω)
    minus its limit 1 + σ² − η_eff, over ω."""
    import matplotlib.pyplot as plt

    ends, d, L, sigma2 = st.ends, st.ch.d, st.ch.L, st.ch.sigma2
    ws, s = np.logspace(-3, 0, 400), ends[ends["± heads"]]
    floor = theory.approx_floor(d, L, sigma2)
    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    x = s["ω (mean |ω_h|)"]
    ax[0].plot(ws, theory.manifold_mu(ws, d, L, sigma2), "k", lw=2, label=r"$\mu^*(\omega)$ (4.6)")
    ax[0].scatter(x, s["Σ₊ μ_h"], c="tab:orange", zorder=3, label=r"end points: $\sum_{h\in+}\mu_h$")
    ax[0].set(xscale="log", yscale="log", xlabel=r"$\omega$", ylabel=r"$\mu$", title="OV weight on the manifold")
    ax[1].plot(ws, theory.manifold_eta(ws, d, L, sigma2), "k", lw=2, label=r"$\eta(\omega) = 2\omega\mu^*(\omega)$")
    ax[1].axhline(
        theory.eta_eff(d, L, sigma2), color="tab:blue", ls="--", lw=1, label=r"$\eta_\mathrm{eff} = 1/(1+cd)$"
    )
    ax[1].scatter(x, s["⟨ω, μ⟩"], c="tab:orange", zorder=3, label=r"end points: $\langle\omega,\mu\rangle$")
    ax[1].set(xscale="log", xlabel=r"$\omega$", ylabel="effective step", title="the debiased-GD step")
    ax[2].plot(
        ws,
        theory.manifold_loss(ws, d, L, sigma2) - floor,
        "k",
        lw=2,
        label=r"$\tilde{\mathcal{L}}$ on $S(\omega)$ minus its limit",
    )
    ax[2].scatter(x, s["L̃ at the end"] - floor, c="tab:orange", zorder=3, label="end points")
    ax[2].set(
        xscale="log",
        yscale="log",
        xlabel=r"$\omega$",
        ylabel=r"$\tilde{\mathcal{L}} - (1+\sigma^2-\eta_\mathrm{eff})$",
        title="the loss along the manifold",
    )
    for a in ax:
        a.legend(fontsize=8)
    return fig
