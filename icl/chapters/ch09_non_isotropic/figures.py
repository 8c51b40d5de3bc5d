"""Chapter 09's figures: the learned pre-conditioners against the references, and the risk curves."""

from __future__ import annotations

import numpy as np

from ...book import style
from ...book.plotting import plot_risk_curves as _plot_risk_curves
from .analysis import _REF_LABEL, Study, case_label, sin_angle

# --- figures ----------------------------------------------------------------------------------------


def plot_gammas(st: Study):
    """Fig. 12's equivalent: per case (rows), Γ_TF of the two-head figure model, Γ_dGD, Σ⁻¹ and I, each divided
    by its largest entry, on one colour scale with its colour bar (the colours show shapes). The titles give
    each reference's sin∠ to that Γ_TF, and the first panel's the other head counts' (so that no row has an
    empty place)."""
    import matplotlib.pyplot as plt

    shown = [c for c in st.cases if c.id != "iso"]
    seed = st.ch.budget.figure_seed
    ncol = 4
    fig, axes = plt.subplots(
        len(shown), ncol, figsize=(style.FULL_WIDTH, 1.95 * len(shown) + 0.3), squeeze=False, sharex=True, sharey=True
    )
    im = None
    for i, c in enumerate(shown):
        refs = c.refs()
        g0 = st.readings[(c.id, c.heads[0], seed)].gamma
        others = "".join(
            f"\n$H = {H}$: sin∠ = {sin_angle(g0, st.readings[(c.id, H, seed)].gamma):.2f}" for H in c.heads[1:]
        )
        panels = [(f"$\\Gamma_{{\\mathrm{{TF}}}}$, $H = {c.heads[0]}$" + others, g0)]
        panels += [
            (_REF_LABEL[k] + f"\nsin∠ = {sin_angle(g0, refs[k]):.2f}", refs[k])
            for k in ("opt", "sigma_inv", "identity")
        ]
        for ax, (name, G) in zip(axes[i], panels):
            im = ax.imshow(G / np.abs(G).max(), cmap="RdBu_r", vmin=-1, vmax=1)
            ax.set_title(name, fontsize=style.MIN_FONT_PT + 0.5)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        axes[i, 0].set_ylabel(case_label(c.id).replace(", ", ",\n"))
    style.colorbar(im, list(axes.flat), label="entry / largest |entry|", shrink=0.7)
    return fig


_CURVE_LABEL = {
    "tf": "dGD with $\\Gamma_{\\mathrm{TF}}$ (as learned)",
    "opt": "dGD with optimal $\\Gamma_\\mathrm{dGD}(L')$",
    "sigma_inv": "dGD with $\\eta\\Sigma^{-1}$ (best $\\eta$)",
    "plain": "plain dGD (best $\\eta$)",
}
# The debiased-GD family, exact risks: references (`style.reference`, above the data), the optimal one in the
# book's debiased-GD style, the others in its width with their own colour and dash.
_CURVE_STYLE = {
    "opt": dict(kind="dgd"),
    "tf": dict(kind="dgd", color="#b2182b", ls=(0, (1, 1.2)), lw=2.2),
    "sigma_inv": dict(kind="dgd", color="#6a3d9a", ls="-."),
    "plain": dict(kind="dgd", color="0.55", ls=(0, (6, 2, 1, 2))),
}
_BAYES = "Bayes (ridge $\\lambda = d\\sigma^2$)"


def _reference(ax, x, y, k, label=None):
    kw = dict(_CURVE_STYLE[k])
    return style.reference(ax, x, y, kw.pop("kind"), label=_CURVE_LABEL[k] if label is None else label, **kw)


def plot_risk_curves(st: Study):
    """Fig. 15's equivalent: ICL risk against L' (log axes) of the models (±2 s.e. bars) with the references
    above them: Bayes (Monte Carlo) and the exact risks of the debiased-GD family (left); the models' and the
    family's risks relative to the optimal Γ_dGD(L')'s (right)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, PercentFormatter

    cv = st.curves
    L = cv.lengths
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=style.figsize(2, width=style.FULL_WIDTH, aspect=0.85))
    models = [k for k in cv.mc if k != "bayes"]
    colours = dict(zip(models, style.config_colours(len(models))))
    curves = {f"softmax $H = {k[0]}$": cv.mc[k] for k in models}
    markers = dict(zip(models, "os^vD"))
    styles = {f"softmax $H = {k[0]}$": dict(color=colours[k], marker=markers[k], ms=4) for k in models}
    refs = {_BAYES: (cv.mc["bayes"][0], "bayes")} if "bayes" in cv.mc else {}
    _plot_risk_curves(L, curves, styles=styles, train_L=st.ch.L, ax=ax, references=refs)
    for k, v in cv.exact.items():
        _reference(ax, L, v, k)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    opt = cv.exact["opt"]
    for k in models:
        m, se = cv.mc[k]
        ax2.errorbar(L, m / opt - 1, yerr=2 * se / opt, color=colours[k], marker=markers[k], ms=4, lw=1.6, capsize=2)
    for k, v in cv.exact.items():
        if k not in ("opt", "plain"):
            _reference(ax2, L, v / opt - 1, k)
    style.reference(ax2, 0.0, kind="dgd", label="")
    style.mark(ax2, st.ch.L, f"training $L = {st.ch.L}$")
    ax2.set(xscale="log", xlabel="number of in-context examples $L'$", ylabel="risk / optimal dGD's − 1")
    ax2.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    fig.suptitle(case_label(st.cases[0].id))
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: (not labels[i].startswith("softmax"), i))
    style.legend_outside(fig, handles=[handles[i] for i in order], loc="outside lower center", ncol=2, frameon=False)
    return fig
