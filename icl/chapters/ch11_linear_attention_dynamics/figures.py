"""Chapter 11's figures (their Figs 1, 3, 4 and 5, and ours), each drawn from a `Study` and returned, not shown.

In the book's visual language (`icl.book.style`): one colour per configuration (a model, an init scale, a rank,
a head count), one per eigen-direction e_d (an ordered colour map, largest eigenvalue darkest), the population
flow as a line and gradient descent as dots, and the predictions (the fixed-point losses L(M_m), the analytic
time course, the scalar ODE, the escape-time law) in the book's reference styles, drawn above the data.
"""

from __future__ import annotations

import numpy as np

from icl.book import style

from .analysis import SCALAR_START, Run, Study
from .dynamics import eigen_contributions, plateau_losses, white_loss

__all__ = ["plot_merged", "plot_separate", "plot_scalar", "plot_ranks", "plot_softmax", "direction_colours"]

FLOW = "population flow"
GD = r"gradient descent, $t = 2\eta k$"
DROP = "0.55"  # the detector's drops: a grey band
TIME = r"time $t$ (flow units)"
LOSS = r"population loss $\mathcal{L}$"


def direction_colours(D: int) -> list:
    """One colour per eigen-direction e_1 … e_D, ordered (e_1, the largest eigenvalue, darkest)."""
    import matplotlib as mpl

    return [mpl.colormaps["viridis"](x) for x in np.linspace(0.0, 0.8, D)]


def _curve(ax, run: Run, color, gd: bool = True):
    """A run's flow (line) and, where it has one and gd, its gradient-descent losses (dots)."""
    ax.plot(run.flow.t, run.flow.loss, color=color, lw=2.2, alpha=0.75)
    if gd and run.gd is not None:
        ax.plot(run.gd.t, run.gd.loss, ls="none", marker="o", ms=2.6, color=color, mec="white", mew=0.3, zorder=3)


def _run_handles(color, flow: str = FLOW, gd: str | None = GD) -> list:
    """Legend handles of a run: its flow (line) and, unless gd is None, its gradient descent (dots)."""
    from matplotlib.lines import Line2D

    out = [Line2D([], [], color=color, lw=2.2, alpha=0.75, label=flow)]
    if gd is not None:
        out.append(Line2D([], [], color=color, ls="none", marker="o", ms=4, label=gd))
    return out


def _label_right(ax, ys, texts, min_gap_pt: float = 10.0):
    """Labels at the right edge of ax, outside the data, at heights ys (data units); a label closer than
    min_gap_pt to the one above it is left out (the line stays)."""
    ax.figure.canvas.draw_idle()
    last = None
    for y, text in sorted(zip(ys, texts), key=lambda p: -p[0]):
        y_pt = ax.transData.transform((0, y))[1] * 72 / ax.figure.dpi
        if last is not None and last - y_pt < min_gap_pt:
            continue
        ax.annotate(
            text,
            (1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(3, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            annotation_clip=False,
        )
        last = y_pt


def plot_merged(st: Study):
    """(a) merged D = 4: flow and GD, tr Λ and L(Γ*), the detected drop; (b) the flow from several init scales;
    (c) GD's half-way time against ln(1/init), with the law's slope; (d) white Λ against its analytic L(t)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    merged, sm = st.merged, st.summary
    main, white = merged["main"], merged["white"]
    model, white_c = style.config_colours(2)
    fig, axes = plt.subplots(2, 2, figsize=style.figsize(2, 2, aspect=0.68, width=style.FULL_WIDTH))
    (a, b), (c, d) = axes

    _curve(a, main, model)
    for drop in sm.merged.drops:
        a.axvspan(drop.t_start, drop.t_end, color=DROP, alpha=0.25, lw=0)
    style.reference(a, sm.trace, kind="floor", label="")
    style.reference(a, sm.converged, kind="theory", label="")
    a.set_xscale("log"), a.set_xlabel(TIME), a.set_ylabel(LOSS)
    a.set_title(f"(a) merged, $D = {main.s.D}$, $H = {main.flow.p.H}$")

    inits = list(merged["scan"])
    colours = [plt.cm.viridis(x) for x in np.linspace(0.0, 0.85, len(inits))]
    for col, (e, tr) in zip(colours, merged["scan"].items()):
        b.plot(tr.t, tr.loss, color=col, label=_power(e))
    b.set_xscale("log"), b.set_xlabel(TIME), b.set_ylabel(LOSS)
    b.set_title("(b) flow from several init scales")
    style.legend_outside(b, title="init")

    x = np.log(1 / np.asarray(inits))
    c.scatter(x, sm.escape_times, c=colours, s=36, zorder=3, edgecolor="white", lw=0.5)
    law = sm.escape_times.mean() + sm.escape_slope_theory * (x - x.mean())
    style.reference(c, x, law, "theory", label="")
    c.set_xlabel(r"$\ln(1/\mathrm{init})$"), c.set_ylabel(r"half-way time $t_{1/2}$ (GD)")
    c.set_title(r"(c) escape time; slope $1/\Vert\Lambda^2\Vert_F$")

    _curve(d, white, white_c)
    style.reference(d, white.flow.t, white_loss(white.flow.t, white.s.D, white.s.N, merged["white_s0"]), "theory")
    d.set_xscale("log"), d.set_xlabel(TIME), d.set_ylabel(LOSS)
    d.set_title(r"(d) white $\Lambda = I$, $\Gamma(0) \propto I$")

    handles = [
        *_run_handles(model, "(a) flow", "(a) gradient descent"),
        *_run_handles(white_c, "(d) flow", "(d) gradient descent"),
        style.reference_handle("floor", r"$\operatorname{tr}\Lambda = \mathcal{L}(0)$"),
        style.reference_handle("theory", r"theory: $\mathcal{L}(\Gamma^*)$, $\mathcal{L}(t)$, slope"),
        Patch(color=DROP, alpha=0.35, label="detected drop"),
    ]
    style.legend_outside(fig, handles=handles, loc="outside lower center", ncol=4)
    return fig


def _power(e: float) -> str:
    """An init scale as mathtext: 0.001 → $10^{-3}$ (other values as %g)."""
    k = np.log10(e)
    return f"$10^{{{int(round(k))}}}$" if abs(k - round(k)) < 1e-9 else f"{e:g}"


def plot_separate(st: Study):
    """Top: separate rank one, flow and GD, the plateau lines L(M_m), H < D stalling. Bottom: per head, its part
    of each eigen-direction of Γ (1 = the head alone carries e_d at its converged value), on the same time axis."""
    import matplotlib.pyplot as plt

    sep, sm = st.separate, st.summary
    run, stall = sep["main"], sep["stall"]
    H, D = run.flow.p.H, run.s.D
    main_c, stall_c = style.config_colours(2)
    dirs = direction_colours(D)
    names = [f"head{i}" for i in range(H)]
    fig, ax = plt.subplot_mosaic(
        [["top"] * H, names], figsize=(style.FULL_WIDTH, 7.0), height_ratios=[1.3, 1.0], gridspec_kw={"hspace": 0.08}
    )
    top, heads = ax["top"], [ax[n] for n in names]
    scale = 1e3  # time in thousands of flow units: the drops are spread over a linear axis
    for tr, col, gd in ((run, main_c, True), (stall, stall_c, False)):
        top.plot(tr.flow.t / scale, tr.flow.loss, color=col, lw=2.2, alpha=0.75)
        if gd and tr.gd is not None:
            top.plot(tr.gd.t / scale, tr.gd.loss, ls="none", marker="o", ms=2.6, color=col, mec="white", mew=0.3)
    for Lm in sm.sep_targets:
        style.reference(top, Lm, kind="theory", label="", lw=1.2)
    _label_right(top, sm.sep_targets, [f"$\\mathcal{{L}}(M_{m})$" for m in range(len(sm.sep_targets))])
    top.set_xlabel(r"time $t$ ($10^3$ flow units)"), top.set_ylabel(LOSS)
    top.set_title(f"separate $K_i, Q_i$, rank one, $D = {D}$: the loss falls in steps")
    handles = [
        *_run_handles(main_c, f"$H = {H}$: flow", f"$H = {H}$: gradient descent"),
        *_run_handles(stall_c, f"$H = {stall.flow.p.H}$: flow", None),
        style.reference_handle("theory", r"$\mathcal{L}(M_m)$", lw=1.2),
    ]
    fig.legend(handles=handles, loc="outside upper center", ncol=4)

    traj = run.gd or run.flow
    contrib, t = eigen_contributions(traj, run.s), traj.t / scale
    for i, ax in enumerate(heads):
        for d in range(D):
            ax.plot(t, contrib[:, i, d], color=dirs[d], lw=1.8)
        for drop in sm.sep.drops:
            ax.axvline(drop.t_mid / scale, color="0.6", lw=0.8, ls=":", zorder=1)
        ax.set_ylim(-0.1, 1.1), ax.set_title(f"head {i + 1}"), ax.set_xticks(_ticks(t[-1]))
        ax.sharex(heads[0]), ax.sharey(heads[0])
        if i:
            ax.tick_params(labelleft=False)
    heads[0].set_ylabel(r"share of $e_d$")
    heads[H // 2].set_xlabel(r"time $t$ ($10^3$ flow units); dotted: the detected drops")
    from matplotlib.lines import Line2D

    fig.legend(
        handles=[
            Line2D([], [], color=dirs[d], lw=2.2, label=f"$e_{d + 1}$ ($\\lambda = {run.s.lam[d]:.2f}$)")
            for d in range(D)
        ],
        loc="outside lower center",
        ncol=D,
    )
    return fig


def _ticks(t_end: float) -> list:
    """At most three round ticks from 0 to t_end (in the axis' units)."""
    step = 10 ** np.floor(np.log10(max(t_end, 1e-12)))
    while t_end / step > 2.5:
        step *= 2 if str(step)[0] == "1" else 2.5
    return list(np.arange(0, t_end * 1.0001, step))


def plot_ranks(st: Study):
    """D = 8, H = 9: for each rank R, the flow's loss above the global minimum, L − L(M_D), on an axis that is
    logarithmic above the smallest step and linear below it (so the small last steps show and L(M_D) is 0), with
    the plateau lines L(M_m) − L(M_D), labelled M_m at the right edge."""
    import matplotlib.pyplot as plt

    ranks, sm = st.ranks, st.summary
    targets = np.asarray(sm.ranks_targets)
    gaps = targets - targets[-1]
    lin = 0.5 * np.min(gaps[:-1])  # the symlog axis is linear below half the smallest step
    colours = style.config_colours(len(ranks))
    fig, axes = plt.subplots(1, len(ranks), figsize=(style.FULL_WIDTH, 3.6), sharey=True, squeeze=False)
    for ax, col, (R, tr) in zip(axes[0], colours, ranks.items()):
        ax.plot(tr.t, tr.loss - targets[-1], color=col, lw=2.2)
        for g in gaps:
            style.reference(ax, g, kind="theory", label="", lw=1.0)
        ax.set_xscale("log"), ax.set_yscale("symlog", linthresh=lin, linscale=0.5)
        ax.set_ylim(-0.3 * lin, 1.5 * gaps[0]), ax.set_xlim(_first_move(tr.t, tr.loss), tr.t[-1] * 1.3)
        ax.set_title(f"$R = {R}$", color=col), ax.set_xlabel(r"time $t$")
    decades = 10.0 ** np.arange(np.ceil(np.log10(lin)), np.floor(np.log10(1.5 * gaps[0])) + 1)
    axes[0][0].set_yticks([0.0, *decades]), axes[0][0].set_ylabel(r"$\mathcal{L} - \mathcal{L}(M_D)$")
    _label_right(axes[0][-1], gaps, [f"$M_{m}$" for m in range(len(gaps))], min_gap_pt=8.0)
    return fig


def _first_move(t, loss) -> float:
    """A left end for a time axis: a third of the time at which the loss has fallen by 1 % of its descent."""
    i = int(np.argmax(loss < loss[0] - 0.01 * (loss[0] - loss.min())))
    return max(t[0], t[i] / 3)


def plot_scalar(st: Study):
    """Left: each newly learning head's effective scale (flow) with the scalar ODE on top, from the moment the head
    starts to grow. Right: the gap model − ODE over the ODE's final value, the claim's measure."""
    import matplotlib.pyplot as plt

    comp = st.comparison
    dirs = direction_colours(len(comp))
    fig, (ax, gap) = plt.subplots(1, 2, figsize=style.figsize(2, 1, aspect=0.8, width=style.FULL_WIDTH))
    for col, c in zip(dirs, comp):
        ax.plot(c["t"], c["model"], color=col, lw=3, alpha=0.55, label=f"$e_{c['m']}$ (head {c['head']})")
        gap.plot(c["t"], (c["model"] - c["ode"]) / np.max(c["ode"]), color=col, lw=1.8)
    for c in comp:
        style.reference(ax, c["t"], c["ode"], "ode", label="scalar ODE" if c is comp[0] else "", lw=1.4)
    tol = getattr(getattr(getattr(st, "ch", None), "tol", None), "scalar_rel", None)
    if tol is not None:
        for s in (tol, -tol):
            style.reference(gap, s, kind="floor", label="the claim's tolerance" if s > 0 else "")
    gap.axhline(0, color="0.3", lw=0.8, zorder=1)
    t_end = max(float(c["t"][-1]) for c in comp) if comp else 1.0
    for a in (ax, gap):
        a.set_xscale("symlog", linthresh=10), a.set_xlim(0, t_end * 1.2)
        a.set_xlabel(f"time since the share reached {SCALAR_START:.1%}")
    ax.set_ylabel(r"effective scale $v$"), ax.set_title("new head and scalar ODE")
    gap.set_ylabel(r"$(v - v_{\mathrm{ODE}})\,/\,\max\, v_{\mathrm{ODE}}$"), gap.set_title("model − ODE")
    style.legend_outside(fig, loc="outside lower center", ncol=3)
    return fig


def plot_softmax(st: Study):
    """Their Fig. 5: loss against time, each softmax version (GD, fresh prompts) and the linear flow from the
    same init, with the plateau lines L(M_m)."""
    import matplotlib.pyplot as plt

    lin_c, soft_c = style.config_colours(2)
    fig, axes = plt.subplots(1, 2, figsize=style.figsize(2, 1, aspect=0.75, width=style.FULL_WIDTH), sharey=True)
    for ax, (kind, run) in zip(axes, st.softmax.items()):
        ax.plot(run.linear.t, run.linear.loss, color=lin_c, lw=2.2, alpha=0.75, label="linear (flow)")
        ax.plot(
            run.soft.t, run.soft.loss, ls="none", marker="o", ms=2.6, color=soft_c, label="softmax (GD, fresh prompts)"
        )
        levels = plateau_losses(run.s) if kind == "separate" else plateau_losses(run.s)[[0, -1]]
        for k, Lm in enumerate(levels):
            style.reference(ax, Lm, kind="theory", lw=1.0, label=r"$\mathcal{L}(M_m)$" if k == 0 else "")
        ax.set_xscale("log"), ax.set_xlabel(r"time $t = 2\eta k$"), ax.set_title(f"{kind} key-query")
    axes[0].set_ylabel(r"loss $\mathcal{L}$")
    style.legend_outside(fig, handles=axes[0].get_legend_handles_labels()[0], loc="outside lower center", ncol=3)
    return fig
