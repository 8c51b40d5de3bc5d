"""Chapter 11's figures (their Figs 1, 3, 4 and 5, and ours), each drawn from a `Study` and returned, not shown."""

from __future__ import annotations

import numpy as np

from .analysis import SCALAR_START, Run, Study
from .dynamics import eigen_contributions, plateau_losses, white_loss

__all__ = ["plot_merged", "plot_separate", "plot_scalar", "plot_ranks", "plot_softmax"]


def _curve(ax, run: Run, label: str, color):
    ax.plot(run.flow.t, run.flow.loss, color=color, lw=2, alpha=0.6, label=f"{label}: population flow")
    if run.gd is not None:
        ax.plot(run.gd.t, run.gd.loss, ls="none", marker=".", ms=3, color=color, label=f"{label}: GD, t = 2ηk")
    ax.set_xscale("log"), ax.set_xlabel("time t (flow units)"), ax.set_ylabel("population loss")


def plot_merged(st: Study):
    """(a) merged D = 4: flow and GD, tr Λ and L(Γ*); (b) the init scan and escape time vs ln(1/init); (c) white Λ."""
    import matplotlib.pyplot as plt

    merged, sm = st.merged, st.summary
    fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
    _curve(ax[0], merged["main"], "merged", "C0")
    (
        ax[0].axhline(sm.trace, color="gray", ls=":", label="tr Λ"),
        ax[0].axhline(sm.converged, color="k", ls="--", label="L(Γ*)"),
    )
    for d in sm.merged.drops:
        ax[0].axvspan(d.t_start, d.t_end, color="C1", alpha=0.15, label="detected drop")
    ax[0].legend(fontsize=7), ax[0].set_title(f"(a) merged KQ, D = {merged['main'].s.D}")
    inits = list(merged["scan"])
    ins = ax[1].inset_axes([0.08, 0.12, 0.35, 0.35])
    for k, (e, tr) in enumerate(merged["scan"].items()):
        ax[1].plot(tr.t, tr.loss, color=plt.cm.viridis(k / max(len(inits) - 1, 1)), label=f"init {e:g}")
    x = np.log(1 / np.asarray(inits))
    ins.plot(x, sm.escape_times, "o", ms=3)
    ins.plot(x, sm.escape_times.mean() + sm.escape_slope_theory * (x - x.mean()), "k--", lw=1)
    ins.set_xlabel("ln(1/init)", fontsize=7), ins.set_ylabel("t½", fontsize=7), ins.tick_params(labelsize=6)
    ax[1].set_xscale("log"), ax[1].set_xlabel("time t"), ax[1].legend(fontsize=7, loc="upper right")
    ax[1].set_title("(b) flow from several init scales; inset: GD")
    w = merged["white"]
    _curve(ax[2], w, "white Λ", "C2")
    ax[2].plot(w.flow.t, white_loss(w.flow.t, w.s.D, w.s.N, merged["white_s0"]), "k--", lw=1, label="analytic L(t)")
    ax[2].legend(fontsize=7), ax[2].set_title("(c) Λ = I: analytic time course")
    return fig


def plot_separate(st: Study):
    """Top: separate rank one, flow and GD, the plateau lines L(M_m), H < D stalling. Bottom: per head, its part
    of each eigen-direction of Γ (1 = the head alone carries e_d at its converged value)."""
    import matplotlib.pyplot as plt

    sep, sm = st.separate, st.summary
    run, H = sep["main"], sep["main"].flow.p.H
    fig = plt.figure(figsize=(14, 6.5))
    top = fig.add_subplot(2, 1, 1)
    _curve(top, run, f"H = {H}", "C0")
    top.plot(
        sep["stall"].flow.t, sep["stall"].flow.loss, color="C3", lw=1.5, label=f"H = {sep['stall'].flow.p.H}: flow"
    )
    for m, Lm in enumerate(sm.sep_targets):
        top.axhline(Lm, color="gray", ls=":", lw=1)
        top.text(run.flow.t[0], Lm, f" L(M_{m})", fontsize=7, va="bottom")
    top.legend(fontsize=7, loc="upper right"), top.set_title(f"separate K, Q, rank one, D = {run.s.D}: loss in steps")
    contrib = eigen_contributions(run.gd or run.flow, run.s)
    t = (run.gd or run.flow).t
    for i in range(H):
        ax = fig.add_subplot(2, H, H + i + 1)
        for d in range(run.s.D):
            ax.plot(t, contrib[:, i, d], label=f"e_{d + 1} (λ = {run.s.lam[d]:.2f})")
        ax.set_xscale("log"), ax.set_ylim(-0.1, 1.1), ax.set_title(f"head {i + 1}", fontsize=9), ax.set_xlabel("t")
        if i == 0:
            ax.set_ylabel("share of e_d"), ax.legend(fontsize=6)
    return fig


def plot_ranks(st: Study):
    """D = 8, H = 9: the flow for each rank R, with the plateau lines L(M_m)."""
    import matplotlib.pyplot as plt

    ranks, sm = st.ranks, st.summary
    fig, ax = plt.subplots(1, len(ranks), figsize=(3.5 * len(ranks), 3.2), sharey=True, squeeze=False)
    for a, (R, tr) in zip(ax[0], ranks.items()):
        a.plot(tr.t, tr.loss, lw=2)
        for Lm in sm.ranks_targets:
            a.axhline(Lm, color="gray", ls=":", lw=1)
        a.set_xscale("log"), a.set_title(f"rank R = {R}"), a.set_xlabel("time t")
    ax[0][0].set_ylabel("population loss")
    return fig


def plot_scalar(st: Study):
    """Each newly learning head's effective scale against the scalar ODE, from the moment it starts to grow."""
    import matplotlib.pyplot as plt

    comp = st.comparison
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for k, c in enumerate(comp):
        ax.plot(c["t"], c["model"], color=f"C{k}", lw=2, alpha=0.6, label=f"e_{c['m']} (head {c['head']}): flow")
        ax.plot(c["t"], c["ode"], color=f"C{k}", ls="--", lw=1)
    ax.set_xscale("symlog", linthresh=10), ax.set_xlabel(f"time since the share reached {SCALAR_START:.1%}")
    ax.set_ylabel("effective scale v"), ax.legend(fontsize=7), ax.set_title("new head vs scalar ODE (dashed)")
    return fig


def plot_softmax(st: Study):
    """Their Fig. 5: loss against time, each softmax version (GD, fresh prompts) and the linear flow from the
    same init."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, (kind, run) in zip(axes, st.softmax.items()):
        ax.plot(run.linear.t, run.linear.loss, color="C0", lw=2, alpha=0.7, label="linear (flow)")
        ax.plot(run.soft.t, run.soft.loss, "o", color="C3", ms=2.5, label="softmax (GD, fresh prompts)")
        for Lm in plateau_losses(run.s) if kind == "separate" else plateau_losses(run.s)[[0, -1]]:
            ax.axhline(Lm, color="grey", lw=0.6, ls=":")
        ax.set_xscale("log"), ax.set_xlabel("time t = 2ηk"), ax.set_title(f"{kind} key-query")
    axes[0].set_ylabel("loss"), axes[0].legend(fontsize=8)
    return fig
