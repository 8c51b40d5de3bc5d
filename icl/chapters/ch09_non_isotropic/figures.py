"""Chapter 09's figures: the learned pre-conditioners against the references, and the risk curves."""

from __future__ import annotations

import numpy as np

from ...book.plotting import plot_risk_curves as _plot_risk_curves
from .analysis import _REF_LABEL, Study, case_label, sin_angle

# --- figures ----------------------------------------------------------------------------------------


def plot_gammas(st: Study):
    """Fig. 12's equivalent: per case, Γ_TF of the H = 2 and largest-H figure models, Γ_dGD, Σ⁻¹ and I,
    each divided by its largest entry (the colours show shapes; the titles give sin∠ to Γ_TF)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    shown = [c for c in st.cases if c.id != "iso"]
    seed = st.ch.budget.figure_seed
    ncol = max(len(c.heads) for c in shown) + 3
    fig, axes = plt.subplots(len(shown), ncol, figsize=(2.3 * ncol, 2.3 * len(shown) + 0.4), squeeze=False)
    for i, c in enumerate(shown):
        refs = c.refs()
        g0 = st.readings[(c.id, c.heads[0], seed)].gamma
        panels = [(f"$\\Gamma_{{TF}}$, $H = {H}$", st.readings[(c.id, H, seed)].gamma) for H in c.heads]
        panels += [None] * (ncol - 3 - len(panels)) + [
            (_REF_LABEL[k], refs[k]) for k in ("opt", "sigma_inv", "identity")
        ]
        for j in range(ncol):
            ax = axes[i, j]
            if panels[j] is None:
                ax.axis("off")
                continue
            name, G = panels[j]
            sns.heatmap(
                G / np.abs(G).max(),
                ax=ax,
                cmap="RdBu_r",
                vmin=-1,
                vmax=1,
                cbar=False,
                square=True,
                xticklabels=False,
                yticklabels=False,
                linewidths=0.3,
                linecolor="white",
            )
            extra = "" if j == 0 else f"\nsin∠ to $\\Gamma_{{TF}}$ = {sin_angle(g0, G):.2f}"
            ax.set_title(name + extra, fontsize=9)
        axes[i, 0].set_ylabel(case_label(c.id), fontsize=9)
    return fig


_CURVE_LABEL = {
    "tf": "dGD with $\\Gamma_{TF}$ (as learned)",
    "opt": "dGD with optimal $\\Gamma_\\mathrm{dGD}(L')$",
    "sigma_inv": "dGD with $\\eta\\Sigma^{-1}$ (best η)",
    "plain": "plain dGD (best η)",
}
_CURVE_STYLE = {
    "tf": dict(color="C3", ls="--"),
    "opt": dict(color="k", ls="-"),
    "sigma_inv": dict(color="C2", ls="-."),
    "plain": dict(color="C0", ls=":"),
}


def plot_risk_curves(st: Study):
    """Fig. 15's equivalent: ICL risk against L' (log axes), models and Bayes with ±2 s.e. bars."""
    import matplotlib.pyplot as plt

    cv = st.curves
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    mc = {("Bayes (ridge λ = dσ²)" if k == "bayes" else f"softmax $H = {k[0]}$"): v for k, v in cv.mc.items()}
    styles = {"Bayes (ridge λ = dσ²)": dict(color="0.5", marker="s")}
    _plot_risk_curves(cv.lengths, mc, styles=styles, train_L=st.ch.L, ax=ax, title=case_label(st.cases[0].id))
    for k, v in cv.exact.items():
        ax.plot(cv.lengths, v, label=_CURVE_LABEL[k], lw=1.4, **_CURVE_STYLE[k])
    ax.set_yscale("log")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig
