"""Chapter 12's figures: the learning-rate probe, the grid's readings, §4.1's ω against Σωμ, and the
out-of-distribution risks."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from ...book.style import SYMBOL, config_colours, figsize, legend_outside, mark, reference, reference_handle
from ...core import theory
from .grid import CONFIGURATIONS, OPTIMISERS

H_MARKERS = {1: "v", 2: "o", 3: "^", 4: "s", 6: "D", 8: "P"}


def _h_colours(heads) -> dict:
    return dict(zip(sorted(heads), config_colours(len(heads))))


def _h_handles(colours) -> list:
    return [
        Line2D([], [], color=c, marker=H_MARKERS.get(H, "o"), ls="", label=f"$H = {H}$") for H, c in colours.items()
    ]


def plot_probe(st):
    """The learning-rate rule: per optimiser, the probe's mean loss over its first and last tenth against the
    rate (a cross: not stable), and the chosen rate."""
    probes, chosen = st.probes, st.chosen
    opts = [o for o in OPTIMISERS if o in set(probes.optimiser)]
    fig, axes = plt.subplots(1, len(opts), figsize=figsize(len(opts), aspect=0.9), squeeze=False, sharey=True)
    colours = _h_colours(sorted(set(probes.H)))
    for ax, o in zip(axes[0], opts):
        sub = probes[probes.optimiser == o]
        for H, c in colours.items():
            s = sub[sub.H == H].sort_values("lr")
            ax.plot(s.lr, s["last"], color=c, marker=H_MARKERS.get(H, "o"), ms=4)
            ax.plot(s.lr, s["first"], color=c, ls=":", lw=1)
            bad = s[~s.stable]
            top = np.nanmax(sub[["first", "last"]].to_numpy()) if np.isfinite(sub[["first", "last"]]).any().any() else 1
            ax.plot(bad.lr, np.full(len(bad), top), color=c, marker="x", ls="", ms=7)
        if np.isfinite(chosen.get(o, np.nan)):
            mark(ax, chosen[o], f"chosen {chosen[o]:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate")
        ax.set_title(CONFIGURATIONS[o].label, pad=15)
    axes[0][0].set_ylabel("probe loss")
    handles = _h_handles(colours) + [
        Line2D([], [], color="0.3", label="last tenth"),
        Line2D([], [], color="0.3", ls=":", label="first tenth"),
        Line2D([], [], color="0.3", marker="x", ls="", label="not stable"),
    ]
    legend_outside(fig, handles=handles, loc="outside lower center", ncols=5)
    return fig


def plot_grid(st):
    """Every configuration's models read as the paper reads its own: zero-sum ratio (1: sign matching broken),
    Σωμ against η_eff of its task, risk against debiased GD's exact risk; the accepted region shaded."""
    models, tol = st.models, st.ch.tol
    ids = list(dict.fromkeys(models.id))
    labels = [CONFIGURATIONS[i].label for i in ids]
    y = {cid: k for k, cid in enumerate(ids)}
    colours = _h_colours(sorted(set(models.H)))
    fig, axes = plt.subplots(1, 3, figsize=figsize(3, aspect=1.9), sharey=True, layout="constrained")
    zs = np.where(models["sign matching"] == 1.0, models["zero-sum"], 1.0)
    cols = (
        (np.where(np.isfinite(zs), zs, 1.0), r"$|\sum_h \mu_h| / \sum_h |\mu_h|$", (0, tol.zero_sum), "log"),
        (models["Σωμ"] / models["η_eff"] - 1, SYMBOL["sum_omega_mu"] + r"$/\eta_{\mathrm{eff}} - 1$",
         (-tol.eta_rel, tol.eta_rel), "linear"),
        (models.risk / models.dGD - 1, r"risk / $\mathcal{R}_{\mathrm{dGD}} - 1$", (-tol.risk_rel, tol.risk_rel),
         "linear"),
    )  # fmt: skip
    seeds = sorted(set(models.seed))
    for ax, (vals, xlabel, band, scale) in zip(axes, cols):
        ax.axvspan(*band, color="0.9", zorder=0)
        for (H, c), off in zip(colours.items(), np.linspace(-0.2, 0.2, len(colours))):
            m = (models.H == H).to_numpy()
            jitter = np.array([seeds.index(s) for s in models.seed[m]]) * 0.08
            ax.plot(
                np.asarray(vals)[m],
                models.id[m].map(y) + off + jitter,
                ls="",
                marker=H_MARKERS.get(H, "o"),
                color=c,
                ms=4,
            )
        ax.set_xscale("symlog", linthresh=0.01) if scale == "linear" else ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_xlim(1e-4, 1.5)
    axes[0].set_yticks(range(len(ids)), labels)
    axes[0].invert_yaxis()
    legend_outside(fig, handles=_h_handles(colours) + [plt.Rectangle((0, 0), 1, 1, color="0.9", label="accepted")],
                   loc="outside lower center", ncols=3)  # fmt: skip
    return fig


def plot_manifold(st):
    """§4.1: across the training choices ω moves along the solution manifold while Σ_h ω_h μ_h stays near
    η_eff (left; the models with the pattern); the spreads across choices against those across seeds (right)."""
    spreads, ch = st.spreads, st.ch
    m = st.learned.dropna(subset=["ω"])  # the models §4.1 speaks of (`Study.learned`)
    factors = list(dict.fromkeys(CONFIGURATIONS[c].factor for c in m.id))
    fcol = dict(zip(factors, config_colours(max(1, len(factors)))))
    fig, (a, b) = plt.subplots(1, 2, figsize=figsize(2, aspect=0.8), layout="constrained")
    if m.empty:
        a.text(0.5, 0.5, "no model shows the pattern\nat this budget", ha="center", va="center", transform=a.transAxes)
    for r in m.itertuples():
        a.plot(r.ω, r.Σωμ, ls="", marker=H_MARKERS.get(r.H, "o"), color=fcol[CONFIGURATIONS[r.id].factor], ms=5)
    lo, hi = (m["ω"].min(), m["ω"].max()) if len(m) else (0.1, 0.5)
    w = np.linspace(0.8 * lo, 1.2 * hi, 200)
    reference(a, w, theory.manifold_eta(w, ch.d, ch.L, ch.sigma2), "theory", label=r"$\eta(\omega)$ on $S$")
    reference(a, ch.eta_eff, None, "floor", label=SYMBOL["eta_eff"])
    a.set_xlabel(r"$\omega$ (mean live $|\omega_h|$)")
    a.set_ylabel(SYMBOL["sum_omega_mu"])
    handles = [Line2D([], [], color=c, marker="o", ls="", label=f) for f, c in fcol.items()]
    handles += [Line2D([], [], color="0.3", marker=H_MARKERS.get(H, "o"), ls="", label=f"$H = {H}$")
                for H in sorted(set(m.H))]  # fmt: skip
    handles += [reference_handle("theory", r"$\eta(\omega)$ on $S$"), reference_handle("floor", SYMBOL["eta_eff"])]
    legend_outside(fig, handles=handles[:8], loc="outside lower center", ncols=4)
    qs = ["ω", "μ", "Σωμ"]
    names = {"ω": r"$\omega$", "μ": r"$\mu$", "Σωμ": SYMBOL["sum_omega_mu"]}
    Hs = sorted(set(spreads.H))
    width = 0.8 / (2 * max(1, len(Hs)))
    for i, H in enumerate(Hs):
        s = spreads[spreads.H == H].set_index("quantity")
        x = np.arange(len(qs)) + (2 * i - len(Hs) + 0.5) * width
        c = _h_colours(Hs)[H]
        b.bar(x, [s.loc[q, "across choices"] for q in qs], width, color=c, label=f"$H = {H}$, across choices")
        b.bar(x + width, [s.loc[q, "across seeds (largest)"] for q in qs], width, color=c, alpha=0.4, hatch="//")
    b.axhline(ch.tol.rate_spread, color="0.4", ls=":", lw=1)
    b.set_xticks(range(len(qs)), [names[q] for q in qs])
    b.set_ylabel("(max − min) / median")
    return fig


def plot_ood(st):
    """Out of distribution: risk against the covariate scale (left), model / debiased GD for every shift
    (middle), risk against the test length up to 10 L (right)."""
    table, ch = st.ood.table, st.ch
    fig, axes = plt.subplots(1, 3, figsize=figsize(3, aspect=1.1), layout="constrained")
    colours = _h_colours(sorted(set(table.H)))
    a, b, c = axes
    sc = table[table.kind.isin(["reference", "covariate scale"])]
    for H, col in colours.items():
        for _seed, s in sc[sc.H == H].groupby("seed"):
            s = s.sort_values("s")
            a.plot(s.s, s.model, color=col, marker=H_MARKERS.get(H, "o"), ms=4, lw=1)
    s0 = sc[(sc.H == sc.H.min()) & (sc.seed == sc.seed.min())].sort_values("s")
    reference(a, s0.s, s0["dGD (exact)"], "dgd", label="debiased GD (own η)")
    reference(a, s0.s, s0["kernel (3.2)"], "theory", label="kernel (3.2)")
    reference(a, s0.s, s0.ridge, "bayes", label=r"ridge ($\lambda = d\sigma^2$)")
    a.set_xscale("log", base=2)
    a.set_yscale("log")
    a.set_xlabel(r"covariate scale $s$ ($x \to s x$)")
    a.set_ylabel("risk")
    rows = list(dict.fromkeys(table.label))
    for (H, col), off in zip(colours.items(), np.linspace(-0.15, 0.15, len(colours))):
        s = table[table.H == H]
        b.plot(s["model / dGD"], s.label.map(rows.index) + off, ls="", marker=H_MARKERS.get(H, "o"), color=col, ms=4)
    b.axvspan(1 - ch.tol.track, 1 + ch.tol.track, color="0.9", zorder=0)
    b.set_xscale("log")
    b.set_yticks(range(len(rows)), rows)
    b.invert_yaxis()
    b.set_xlabel(r"model / $\mathcal{R}_{\mathrm{dGD}}$")
    ln = table[table.kind.isin(["reference", "length"])]
    for H, col in colours.items():
        for _seed, s in ln[ln.H == H].groupby("seed"):
            s = s.sort_values("L'")
            c.plot(s["L'"], s.model, color=col, marker=H_MARKERS.get(H, "o"), ms=4, lw=1)
    s0 = ln[(ln.H == ln.H.min()) & (ln.seed == ln.seed.min())].sort_values("L'")
    reference(c, s0["L'"], s0["dGD (exact)"], "dgd", label="")
    reference(c, (1 - s0["Σωμ"].iloc[0]) ** 2 + ch.sigma2, None, "floor", label=r"$L' \to \infty$ limit")
    c.set_xscale("log")
    c.set_xticks(sorted(set(ln["L'"])), [str(int(v)) for v in sorted(set(ln["L'"]))])
    c.xaxis.set_minor_formatter(NullFormatter())
    c.set_xlabel(SYMBOL["L_test"])
    mark(c, ch.L, "$L$")
    handles = _h_handles(colours) + [
        reference_handle("dgd", "debiased GD (own η)"),
        reference_handle("theory", "kernel (3.2)"),
        reference_handle("bayes", r"ridge ($\lambda = d\sigma^2$)"),
        reference_handle("floor", r"$L' \to \infty$ limit"),
    ]
    legend_outside(fig, handles=handles, loc="outside lower center", ncols=3)
    return fig
