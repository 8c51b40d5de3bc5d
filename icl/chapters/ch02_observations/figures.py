"""Chapter 02's figures, drawn from the `Study`: one `plot_*(st)` per glued figure, each returning it."""

from __future__ import annotations

import numpy as np

from ...book import plotting
from .analysis import LABELS, Models, RiskCurves, Study, dynamics, extra_dummy_models, head_labels, title

__all__ = [
    "plot_circuits",
    "plot_circuits_more",
    "plot_dynamics",
    "plot_dynamics_more",
    "plot_dynamics_late",
    "plot_risk",
]


def plot_circuits(st: Study):
    """The circuits of the figure seed's models with `ch.budget.circuit_heads` heads (Figs 1, 3)."""
    return _circuit_panels(_shown(st), st.ch.d)


def _shown(st: Study) -> list:
    m = st.models
    return [
        (m.figure_run(H), f"$H = {H}$ (seed {m.figure_seed}) after {m.steps:,} steps")
        for H in st.ch.budget.circuit_heads
        if H in m.heads
    ]


def plot_circuits_more(st: Study):
    """The circuits of the other head counts (`ch.budget.more_circuits`) and, for every head count
    whose figure model has no dummy head, the first model that has one (Fig. 14)."""
    m = st.models
    more = [(m.figure_run(H), f"$H = {H}$ (seed {m.figure_seed})") for H in st.ch.budget.more_circuits if H in m.heads]
    more += [
        (m.runs[k], f"$H = {k[0]}$ (seed {k[1]}), a model with a dummy head") for k in extra_dummy_models(m).values()
    ]
    return _circuit_panels(more or _shown(st), st.ch.d)


def _dynamics_keys(st: Study) -> list:
    m = st.models
    return [(H, m.figure_seed) for H in st.ch.budget.dynamics_heads if H in m.heads]


def _dynamics_of(st: Study, keys):
    return _dynamics_panels([(st.models.runs[k], title(k)) for k in keys], st.ch.tol.zero_sum)


def plot_dynamics(st: Study):
    """The dynamics of the figure seed's models with `ch.budget.dynamics_heads` heads (Figs 5, 13)."""
    return _dynamics_of(st, _dynamics_keys(st))


def plot_dynamics_more(st: Study):
    """The dynamics of the figure seed's models of the remaining head counts."""
    m, shown = st.models, _dynamics_keys(st)
    rest = [(H, m.figure_seed) for H in m.heads if (H, m.figure_seed) not in shown]
    return _dynamics_of(st, rest or shown)


def plot_dynamics_late(st: Study):
    """The dynamics of the latest-settling runs (`Study.latest`)."""
    return _dynamics_of(st, st.latest)


def plot_risk(st: Study):
    """Fig. 4: the risk curves of every head count and the baselines, and relative to debiased GD."""
    return _risk_panels(st.curves, st.models, st.ch.L)


def _circuit_panels(entries, d: int):
    """One figure with the circuits (`icl.book.plotting.plot_circuits`) of several models, one row of
    panels per model. entries: [(run, title)]. Returns the figure."""
    import matplotlib.pyplot as plt

    width = max(2.3 * r.kq.shape[0] + 1.2 for r, _ in entries)
    fig = plt.figure(figsize=(max(width, 6.0), 4.6 * len(entries)))
    subs = np.atleast_1d(fig.subfigures(len(entries), 1))
    for sub, (run, heading) in zip(subs, entries):
        H, D = run.kq.shape[0], run.kq.shape[-1]
        axes = sub.subplots(2, H, squeeze=False, gridspec_kw={"height_ratios": [D, 1.6 * (D - d)]})
        plotting.plot_circuits(run.kq, run.ov, d, head_labels=head_labels(run), title=heading, axes=axes)
    return fig


def _dynamics_panels(entries, zero_sum_tol: float):
    """One figure with the dynamics (`icl.book.plotting.plot_head_dynamics`) of several runs, one row per
    run, the settling step marked (not for H = 1). entries: [(run, title)]. Returns the figure."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(10, 3.6 * len(entries)))
    subs = np.atleast_1d(fig.subfigures(len(entries), 1))
    for sub, (run, heading) in zip(subs, entries):
        dy = dynamics(run, zero_sum_tol)
        onset = dy.settled if run.config.model.heads > 1 else None
        plotting.plot_head_dynamics(
            dy.steps, dy.omega, dy.mu, dy.groups, onset=onset, title=heading, axes=sub.subplots(1, 2)
        )
    return fig


_STYLES = {
    "dgd": dict(color="k", ls="--", marker="s", ms=5, mfc="none"),
    "gd": dict(color="0.45", ls=":", marker="D", ms=4, mfc="none"),
    "bayes": dict(color="#d95f02", ls="-.", marker="^", ms=5),
}


def _risk_panels(cv: RiskCurves, models: Models, train_L: int):
    """Fig. 4: left, risk against L' for the baselines and the figure seed's model of every head
    count (±2 s.e.); right, each H ≥ 2 model (and vanilla GD) relative to debiased GD on the same
    prompts. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    colours = dict(zip(models.heads, plt.cm.viridis(np.linspace(0.0, 0.85, len(models.heads)))))
    curves = {LABELS[k]: (cv.mean[k], cv.se[k]) for k in ("bayes", "gd", "dgd")}
    styles = {LABELS[k]: s for k, s in _STYLES.items()}
    rel = {LABELS["gd"]: (cv.ratio["gd"] - 1, 0 * cv.lengths)}
    for H in models.heads:
        k, name = (H, models.figure_seed), f"softmax $H = {H}$"
        curves[name] = (cv.mean[k], cv.se[k])
        styles[name] = dict(color=colours[H], lw=2.2 if H == 1 else 1.6, alpha=0.9)
        if H > 1:
            rel[name] = (cv.ratio[k] - 1, 0 * cv.lengths)
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.6))
    plotting.plot_risk_curves(
        cv.lengths, curves, styles=styles, train_L=train_L, ax=axes[0], title="ICL risk against the test length"
    )
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=8, loc="lower left")
    plotting.plot_risk_curves(
        cv.lengths,
        rel,
        styles=styles,
        train_L=train_L,
        ax=axes[1],
        ylabel="risk / risk of debiased GD − 1",
        title="$H \\geq 2$ relative to debiased GD (same prompts)",
    )
    axes[1].axhline(0, color="k", lw=0.8, ls="--")
    axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
    return fig
