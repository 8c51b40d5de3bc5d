"""Chapter 08's figures: one function per figure, each `plot_*(st) -> Figure` (the notebook glues it)."""

from __future__ import annotations

import numpy as np

from ...book.plotting import coordinate_labels, plot_head_dynamics, plot_risk_curves
from ...core import theory
from ...core.circuits import zero_sum_ratio
from .activations import NAMES, model_name
from .analysis import Study, seed_mean_curve
from .linear import linear_risk_at

__all__ = [
    "plot_length_generalisation",
    "plot_construction",
    "plot_activation_circuits",
    "plot_activation_dynamics",
    "plot_zero_sum_dynamics",
    "plot_activation_risks",
]

_H_COLOURS = {1: "#1b9e77", 2: "#d95f02", 4: "#7570b3"}
_REF_STYLES = {
    "gd_opt": dict(color="0.35", ls="--", marker="", lw=1.2),
    "dgd": dict(color="0.6", ls="-.", marker="", lw=1.2),
    "bayes": dict(color="k", ls=":", marker="", lw=1.2),
}
_REF_NAMES = {"gd_opt": "vanilla GD at η*(L')", "dgd": "debiased GD at η_eff", "bayes": "Bayes (ridge)"}


def plot_length_generalisation(st: Study):
    """Fig. 8: risk against L' (softmax and linear, H ∈ heads, mean over seeds) with the references,
    and the GD rate each applies at L' against η*(L')."""
    import matplotlib.pyplot as plt

    ch = st.ch
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [1.4, 1]})
    L = st.curves.lengths
    curves, styles = {}, {}
    for norm, ls, mk in (("softmax", "-", "o"), ("linear", "--", "s")):
        for H in sorted({k[1] for k in st.keys(norm)}):
            name = f"{norm}, H = {H}"
            curves[name] = seed_mean_curve(st, norm, H)
            styles[name] = dict(color=_H_COLOURS.get(H, "C0"), ls=ls, marker=mk)
    for k in _REF_STYLES:
        curves[_REF_NAMES[k]] = (st.curves.mean(k), st.curves.se(k))
        styles[_REF_NAMES[k]] = _REF_STYLES[k]
    plot_risk_curves(L, curves, styles=styles, train_L=ch.L, ax=ax)
    eta = np.mean([r.eta for r in st.linear])
    grid = np.geomspace(L.min(), L.max(), 200)
    ax.plot(grid, linear_risk_at(eta, st.n, grid, ch.d, ch.sigma2), color="C3", lw=1, label="linear read as GD (exact)")
    ax.set_yscale("log")
    ax.legend(fontsize=7, ncol=2)
    ax2.plot(grid, theory.gd_optimal_eta(ch.d, grid, ch.sigma2), color="0.35", ls="--", label="η*(L')")
    ax2.plot(grid, eta * grid / st.n, color="C3", label="linear: η̂ L'/n (fixed 1/n)")
    ax2.axhline(np.mean(st.softmax_rates), color=_H_COLOURS[2], label="softmax H = 2: 2ωμ (self-normalised)")
    ax2.axvline(ch.L, color="0.4", ls=":", lw=1)
    ax2.set(xscale="log", yscale="log", xlabel="number of in-context examples $L'$", ylabel="GD rate applied at $L'$")
    ax2.legend(fontsize=8)
    return fig


def plot_construction(st: Study):
    """(5.2): the relative RMS difference of the 2H-head softmax model and the linear model against the
    logit scale, on centred tokens (with the slope 2 of the expansion) and on the prompts as they come
    (every linear model: the second term of (5.2) is left)."""
    import matplotlib.pyplot as plt

    con = st.construction
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.loglog(con.scales, con.errors, "o-", color="C0", label=f"centred tokens (slope {con.slope:.2f})")
    ref = con.errors[-1] * (con.scales / con.scales[-1]) ** 2
    ax.loglog(con.scales, ref, "k--", lw=1, label="slope 2 (the expansion's order)")
    raw = "tokens as they come (each linear model)"
    for i, e in enumerate(con.raw.values()):
        ax.loglog(con.scales, e, "s-", color="C3", lw=1, alpha=0.6, label=None if i else raw)
    ax.set(xlabel="logit scale ε · max|ω_h|", ylabel="relative RMS difference")
    ax.set_xticks(con.scales, [f"{x:g}" for x in con.scales], minor=False)
    ax.set_xticks([], minor=True)
    ax.legend(fontsize=8)
    return fig


def plot_activation_circuits(st: Study):
    """Fig. 9: per two-head activation model (columns, first seed): each head's KQ circuit (keys ×
    query x-coordinates, rows 1–2) and the OV rows that write y (row 3, one line per head), each
    model on its own symmetric colour scale."""
    import matplotlib.pyplot as plt

    ch = st.ch
    keys = [k for k in st.activation_keys() if k[1] == 2 and k[2] == st.keys(k[0], 2)[0][2]]
    labels = coordinate_labels(ch.d)
    fig, axes = plt.subplots(
        3,
        len(keys),
        figsize=(2.3 * len(keys), 6.4),
        squeeze=False,
        gridspec_kw={"height_ratios": [ch.d + 1, ch.d + 1, 2]},
    )
    for i, k in enumerate(keys):
        kq, ov = st.runs[k].kq[:, :, : ch.d], st.runs[k].ov[:, ch.d, :]  # (2, D, d), (2, D)
        vk, vo = np.abs(kq).max(), np.abs(ov).max()
        for h in range(2):
            ax = axes[h, i]
            ax.imshow(kq[h], cmap="RdBu_r", vmin=-vk, vmax=vk)
            ax.grid(False)
            ax.set_title(f"{NAMES[k[0]]}\nKQ head {h + 1}" if h == 0 else f"KQ head {h + 1}", fontsize=8)
            ax.set_xticks(range(ch.d), labels[: ch.d], fontsize=6)
            ax.set_yticks(range(ch.d + 1), labels, fontsize=6)
        ax = axes[2, i]
        ax.imshow(ov, cmap="RdBu_r", vmin=-vo, vmax=vo, aspect="auto")
        ax.grid(False)
        ax.set_title("OV y-row, heads 1–2", fontsize=8)
        ax.set_xticks(range(ch.d + 1), labels, fontsize=6)
        ax.set_yticks(range(2), ["1", "2"], fontsize=6)
    return fig


def plot_activation_dynamics(st: Study):
    """Fig. 10: ω_h and μ_h against the step for every activation model (first seed)."""
    import matplotlib.pyplot as plt

    keys = [k for k in st.activation_keys() if k[2] == st.keys(k[0], k[1])[0][2]]
    fig, axes = plt.subplots(len(keys), 2, figsize=(10, 2.6 * len(keys)), squeeze=False)
    for ax, k in zip(axes, keys):
        r = st.runs[k]
        h = r.history()
        groups = np.sign(h.omega[-1]).astype(int)
        plot_head_dynamics(r.snapshot_steps, h.omega, h.mu, groups, axes=ax)
        ax[0].set_title(f"{NAMES[k[0]]}, H = {k[1]}: KQ scale ω_h", fontsize=9)
        ax[1].set_title("OV scale μ_h", fontsize=9)
    return fig


def plot_zero_sum_dynamics(st: Study):
    """Which pattern each two-head run ends in: the zero-sum ratio |Σ_h μ_h|/Σ_h |μ_h| (left) and the
    training loss (right) against the step, every seed of every f and of softmax; colour: f, line: seed."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.lines import Line2D

    ch = st.ch
    keys = st.keys("softmax", 2) + [k for k in st.activation_keys() if k[1] == 2]
    names = list(dict.fromkeys(k[0] for k in keys))
    seeds = sorted({k[2] for k in keys})
    colours = dict(zip(names, sns.color_palette("colorblind", len(names))))
    dashes = dict(zip(seeds, ["-", "--", ":", "-."] * len(seeds)))
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(11, 3.8))
    for k in keys:
        r = st.runs[k]
        h = r.history()
        keep = r.snapshot_steps > 0
        style = dict(color=colours[k[0]], ls=dashes[k[2]], lw=1.4, alpha=0.9)
        a0.plot(r.snapshot_steps[keep], zero_sum_ratio(h.mu)[keep], **style)
        a1.plot(*r.loss_curve(), **style)
    a0.axhline(ch.tol.zero_sum, color="0.3", lw=0.8, ls=":")
    a0.annotate(
        "zero-sum tolerance",
        (1, ch.tol.zero_sum),
        xycoords=("axes fraction", "data"),
        xytext=(-4, 3),
        textcoords="offset points",
        ha="right",
        fontsize=8,
        color="0.3",
    )
    a0.set(
        xscale="log",
        xlabel="Adam step",
        ylabel=r"$|\Sigma_h \mu_h| \,/\, \Sigma_h |\mu_h|$",
        title="zero-sum ratio of the OV scales (1: one sign)",
        ylim=(-0.03, 1.03),
    )
    a1.set(xscale="log", xlabel="Adam step", ylabel="training loss", title="training loss (means over log-spaced bins)")
    handles = [Line2D([], [], color=colours[n], lw=2, label=NAMES[n]) for n in names]
    handles += [Line2D([], [], color="0.3", ls=dashes[s], lw=1.4, label=f"seed {s}") for s in seeds]
    a1.legend(handles=handles, fontsize=7, ncol=2, loc="upper right")
    return fig


def plot_activation_risks(st: Study):
    """Fig. 11: risk against L' of every activation model with debiased GD at η_eff and Bayes."""
    import matplotlib.pyplot as plt

    ch = st.ch
    fig, ax = plt.subplots(figsize=(8, 4.6))
    keys = [k for k in st.keys("softmax", 2)[:1]] + st.activation_keys()
    curves = {model_name(k): (st.curves.mean(k), st.curves.se(k)) for k in keys}
    styles = {}
    for k in ("dgd", "bayes"):
        curves[_REF_NAMES[k]] = (st.curves.mean(k), st.curves.se(k))
        styles[_REF_NAMES[k]] = _REF_STYLES[k]
    plot_risk_curves(st.curves.lengths, curves, styles=styles, train_L=ch.L, ax=ax)
    ax.legend(fontsize=7)
    return fig
