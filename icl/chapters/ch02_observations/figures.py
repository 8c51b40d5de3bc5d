"""Chapter 02's figures, drawn from the `Study`: one `plot_*(st)` per glued figure, each returning it.

In the book's visual language (`icl.book.style`): circuits in rows of at most four heads, one block of
rows per model under its heading (`circuit_figure`); dynamics of several runs stacked with one legend
of groups for the figure (`dynamics_figure`); risk curves with one colour per head count and the
baselines in their reference styles, drawn above the models."""

from __future__ import annotations

import numpy as np

from ...book import plotting, style
from .analysis import Models, RiskCurves, Study, dynamics, extra_dummy_models, head_labels

__all__ = [
    "plot_circuits",
    "plot_circuits_more",
    "plot_dynamics",
    "plot_dynamics_more",
    "plot_dynamics_late",
    "plot_risk",
    "circuit_figure",
    "dynamics_figure",
    "MATH_LABELS",
]

# The baselines' names in mathtext (analysis.LABELS, the tables' plain-text names, stay as they are).
MATH_LABELS = {
    "dgd": r"debiased GD ($\eta_{\mathrm{eff}}$)",
    "gd": r"vanilla GD ($\eta^*$)",
    "bayes": r"Bayes (ridge $\lambda = d\sigma^2$)",
}
PER_ROW = 4  # heads to a row of circuits
OV_ROW = 2.0  # an OV row's height, in KQ rows (plotting.circuit_axes: 1.6), so that its colour bar reads
WIDTH = style.FULL_WIDTH - 0.1  # inches: with bbox_inches="tight"'s padding, the PNG stays within the budget


def _heading(key) -> str:
    return f"$H = {key[0]}$ (seed {key[1]})"


def plot_circuits(st: Study):
    """The circuits of the figure seed's models with `ch.budget.circuit_heads` heads (Figs 1, 3)."""
    m = st.models
    return circuit_figure(_shown(st), st.ch.d, title=f"After {m.steps:,} Adam steps")


def _shown(st: Study) -> list:
    m = st.models
    return [(m.figure_run(H), _heading((H, m.figure_seed))) for H in st.ch.budget.circuit_heads if H in m.heads]


def plot_circuits_more(st: Study):
    """The circuits of the other head counts (`ch.budget.more_circuits`) and, for every head count
    whose figure model has no dummy head, the first model that has one (Fig. 14)."""
    m = st.models
    more = [(m.figure_run(H), _heading((H, m.figure_seed))) for H in st.ch.budget.more_circuits if H in m.heads]
    more += [(m.runs[k], _heading(k) + ", a model with a dummy head") for k in extra_dummy_models(m).values()]
    return circuit_figure(more or _shown(st), st.ch.d, title=f"After {m.steps:,} Adam steps")


def circuit_figure(entries, d: int, *, title: str | None = None, per_row: int = PER_ROW):
    """The circuits (`icl.book.plotting.plot_circuits`) of several models in one figure: per model, its
    heading over rows of at most per_row heads (as even as they can be: 6 heads in rows of 3), its
    own KQ and OV colour bars beside its first row. Every head's panel has the same width (that of a
    full row of `plotting.circuit_axes`); a narrower model is centred. entries: [(run, heading)].
    Returns the figure."""
    import matplotlib.pyplot as plt

    dims = []
    for run, _ in entries:
        H, D = run.kq.shape[0], run.kq.shape[-1]
        R = -(-H // per_row)
        dims.append((H, D, -(-H // R), R))
    cols = max(C for *_, C, _ in dims)
    panel = min(1.6, (WIDTH - 0.1 - 1.3) / cols)
    width = panel * cols + 1.3
    heights = [R * (panel * (D + OV_ROW * (D - d)) / d + 1.0) + 0.35 for _, D, _, R in dims]
    fig = plt.figure(figsize=(width, sum(heights) + (0.3 if title else 0.0)))
    subs = np.atleast_1d(fig.subfigures(len(entries), 1, height_ratios=heights))
    for sub, (run, heading), (H, D, C, R) in zip(subs, entries, dims):
        used = panel * C + 1.3
        if used < width - 0.05:  # centre a narrower model, its panels as wide as the others'
            side = (width - used) / 2
            sub = sub.subfigures(1, 3, width_ratios=[side, used, side])[1]
        T = D - d
        axes = sub.subplots(2 * R, C, squeeze=False, gridspec_kw={"height_ratios": [D, OV_ROW * T] * R})
        for k in range(H, R * C):  # the last row's empty places
            axes[2 * (k // C), k % C].set_visible(False)
            axes[2 * (k // C) + 1, k % C].set_visible(False)
        plotting.plot_circuits(run.kq, run.ov, d, head_labels=head_labels(run), title=heading, axes=axes, per_row=C)
    if title:
        fig.suptitle(title)
    return fig


def _dynamics_keys(st: Study) -> list:
    m = st.models
    return [(H, m.figure_seed) for H in st.ch.budget.dynamics_heads if H in m.heads]


def _dynamics_of(st: Study, keys):
    return dynamics_figure([(st.models.runs[k], _heading(k)) for k in keys], st.ch.tol.zero_sum)


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


def dynamics_figure(entries, zero_sum_tol: float):
    """The dynamics (`icl.book.plotting.plot_head_dynamics`) of several runs in one figure, one row per
    run under its heading, the settling step marked above the axes (not for H = 1); the panel titles
    on the top row only, and one legend, below the rows, naming the head groups and group sums that
    appear. entries: [(run, heading)]. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    row = 2.75
    fig = plt.figure(figsize=(WIDTH, row * len(entries) + 0.3 + 0.6))
    subs = np.atleast_1d(fig.subfigures(len(entries), 1))
    groups, sums = set(), {}
    for i, (sub, (run, heading)) in enumerate(zip(subs, entries)):
        dy = dynamics(run, zero_sum_tol)
        onset = dy.settled if run.config.model.heads > 1 else None
        axes = sub.subplots(1, 2)
        plotting.plot_head_dynamics(
            dy.steps, dy.omega, dy.mu, dy.groups, onset=onset, title=heading, axes=axes, legend=False
        )
        for ax in axes:  # titles once, above the event labels; the y labels name the panels below
            ax.set_title(ax.get_title() if i == 0 else "", pad=15)
        groups.update(int(g) for g in dy.groups)
        for line in axes[1].get_lines():
            if line.get_label().startswith("$"):
                sums.setdefault(line.get_label(), line)
    handles = plotting.sign_handles(list(groups))
    handles += [
        Line2D([], [], color=h.get_color(), ls=h.get_linestyle(), lw=h.get_linewidth(), label=k)
        for k, h in sorted(sums.items(), key=lambda kv: (r"\in +" not in kv[0], r"\in -" not in kv[0]))
    ]
    style.legend_outside(fig, handles=handles, loc="outside lower center", ncol=min(len(handles), 6))
    return fig


def plot_risk(st: Study):
    """Fig. 4: the risk curves of every head count and the baselines, and relative to debiased GD."""
    return _risk_panels(st.curves, st.models, st.ch.L)


def _risk_panels(cv: RiskCurves, models: Models, train_L: int):
    """Fig. 4: left, risk against L' for the figure seed's model of every head count (±2 s.e.), the
    baselines drawn above them in their reference styles; right, each H ≥ 2 model (and vanilla GD)
    relative to debiased GD on the same prompts (debiased GD itself: the zero line). One colour per
    head count; two legends beside the panels, one for the head counts, one for the baselines.
    Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    colours = dict(zip(models.heads, style.config_colours(len(models.heads))))
    curves, styles, rel = {}, {}, {}
    for H in models.heads:
        k, name = (H, models.figure_seed), f"$H = {H}$"
        curves[name] = (cv.mean[k], cv.se[k])
        styles[name] = dict(color=colours[H], lw=2.2 if H == 1 else 1.6, ms=3.5, alpha=0.9)
        if H > 1:
            rel[name] = (cv.ratio[k] - 1, 0 * cv.lengths)
    refs = {MATH_LABELS[k]: (cv.mean[k], k) for k in ("bayes", "gd", "dgd")}
    fig, axes = plt.subplots(1, 2, figsize=style.figsize(2, width=WIDTH, aspect=0.95))
    plotting.plot_risk_curves(cv.lengths, curves, styles=styles, train_L=train_L, ax=axes[0], references=refs)
    axes[0].set_yscale("log")
    axes[0].set_title("ICL risk against $L'$", pad=15)
    plotting.plot_risk_curves(
        cv.lengths,
        rel,
        styles=styles,
        train_L=train_L,
        ax=axes[1],
        ylabel=r"$\mathcal{R}\,/\,\mathcal{R}_{\mathrm{dGD}} - 1$ (same prompts)",
        references={MATH_LABELS["gd"]: (cv.ratio["gd"] - 1, "gd")},
    )
    style.reference(axes[1], 0.0, kind="dgd", label="")
    axes[1].set_title(r"$H \geq 2$ relative to debiased GD", pad=15)
    axes[1].yaxis.set_major_formatter(PercentFormatter(1.0))
    for ax in axes:
        ax.set_xlabel("in-context examples $L'$")
    style.config_seed_legend(fig, {f"$H = {H}$": colours[H] for H in models.heads}, title="softmax attention")
    handles = [style.reference_handle(kind, MATH_LABELS[kind]) for kind in ("bayes", "gd", "dgd")]
    style.legend_outside(fig, handles=handles, loc="outside lower center", ncol=3)
    return fig
