"""Chapter 08's figures: one function per figure, each `plot_*(st) -> Figure` (the notebook glues it).

The book's visual language (`icl.book.style`): one colour per configuration (a head count in Fig. 8,
an activation f with its head count in Figs 10–11), one line style per seed, references in their
fixed styles above the data, heads by the sign of μ_h, legends of ≤ 8 entries outside the data.
"""

from __future__ import annotations

import numpy as np

from ...book import style
from ...book.plotting import coordinate_labels, plot_head_dynamics, plot_risk_curves
from ...core import theory
from ...core.circuits import head_groups, zero_sum_ratio
from .activations import NAMES, ONE_SIGN
from .analysis import Study, seed_mean_curve
from .linear import linear_risk_at

__all__ = [
    "plot_length_generalisation",
    "plot_construction",
    "plot_activation_circuits",
    "plot_activation_dynamics",
    "plot_zero_sum_dynamics",
    "plot_activation_risks",
    "activation_configs",
    "config_colour_map",
    "end_patterns",
]

_REF = {  # the chapter's reference curves: id in `Study.curves` → (kind of `style.REFERENCE`, label)
    "gd_opt": ("gd", r"vanilla GD at $\eta^*(L')$"),
    "dgd": ("dgd", r"debiased GD at $\eta_{\mathrm{eff}}$"),
    "bayes": ("bayes", "Bayes (ridge)"),
}
_NORM_STYLE = {"softmax": dict(ls="-", marker="o"), "linear": dict(ls="--", marker="s")}
_LOSS_WINDOW = 5  # the training loss is shown as a moving mean over this many of its log-spaced bins


def _legend_below(ax, handles, *, ncol: int = 1, title: str | None = None, drop: float = 0.6):
    """A legend under the axes, `drop` inches below their lower edge (under the x label: outside the data;
    constrained layout makes room for it)."""
    from matplotlib.transforms import ScaledTranslation

    return ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=ax.transAxes + ScaledTranslation(0, -drop, ax.figure.dpi_scale_trans),
        ncol=ncol,
        title=title,
        borderaxespad=0,
        frameon=False,
    )


def _line(label: str, **kw):
    from matplotlib.lines import Line2D

    return Line2D([], [], label=label, **{"lw": 1.8, "color": "0.3", **kw})


def _ref_handle(kind: str, label: str):
    return _line(label, **{k: v for k, v in style.REFERENCE[kind].items() if k != "label"})


def activation_configs(st: Study) -> list:
    """The configurations of Figs 10–11, (normalisation, H): the two-head softmax model, then every activation
    model's, in the study's order."""
    acts = [k[:2] for k in st.activation_keys()]
    return list(dict.fromkeys([("softmax", 2)] + acts))


def config_colour_map(st: Study) -> dict:
    """(normalisation, H) → its colour, one per configuration (`icl.book.style.config_colours`)."""
    cfgs = activation_configs(st)
    return dict(zip(cfgs, style.config_colours(len(cfgs))))


def _config_name(cfg) -> str:
    norm, H = cfg
    return NAMES.get(norm, norm) + ("" if H == 2 else f", $H = {H}$")


def end_patterns(st: Study, keys) -> dict:
    """key → the pattern its final weights hold: '±' (zero-sum ratio |Σ_h μ_h|/Σ_h |μ_h| within the chapter's
    tolerance), 'one sign' (ratio 1: every μ_h at one sign) or 'not zero-sum' (in between)."""
    tol, out = st.ch.tol.zero_sum, {}
    for k in keys:
        z = float(zero_sum_ratio(st.runs[k].pattern().mu))
        out[k] = "±" if z <= tol else ("one sign" if z > ONE_SIGN else "not zero-sum")
    return out


# --- §5.1: length generalisation, (5.2) ---------------------------------------------------------


def plot_length_generalisation(st: Study):
    """Fig. 8: risk against L' (softmax solid, linear dashed, one colour per head count, mean over seeds)
    with the references above them, and the GD rate each applies at L' against η*(L')."""
    import matplotlib.pyplot as plt

    ch = st.ch
    fig, (ax, ax2) = plt.subplots(
        1, 2, figsize=style.figsize(2, width=style.FULL_WIDTH, aspect=0.85), gridspec_kw={"width_ratios": [1.25, 1]}
    )
    L = st.curves.lengths
    heads = sorted({k[1] for k in st.runs if k[0] in _NORM_STYLE})
    colour = dict(zip(heads, style.config_colours(len(heads))))
    curves, styles = {}, {}
    for norm in _NORM_STYLE:
        for H in sorted({k[1] for k in st.keys(norm)}):
            curves[f"{norm}, H = {H}"] = seed_mean_curve(st, norm, H)
            styles[f"{norm}, H = {H}"] = dict(color=colour[H], ms=3.5, **_NORM_STYLE[norm])
    refs = {label: (st.curves.mean(k), kind) for k, (kind, label) in _REF.items()}
    plot_risk_curves(L, curves, styles=styles, train_L=ch.L, ax=ax, references=refs)
    eta = np.mean([r.eta for r in st.linear])
    grid = np.geomspace(L.min(), L.max(), 200)
    exact = linear_risk_at(eta, st.n, grid, ch.d, ch.sigma2)
    style.reference(ax, grid, exact, "theory", label="")
    ax.set(yscale="log")

    style.reference(ax2, grid, theory.gd_optimal_eta(ch.d, grid, ch.sigma2), "gd", label="")
    for H in sorted({k[1] for k in st.keys("linear")}):
        e = np.mean([r.eta for r in st.linear if r.key[1] == H])
        ax2.plot(grid, e * grid / st.n, color=colour[H], ls="--", lw=1.6)
    rate = float(np.mean(st.softmax_rates))
    ax2.axhline(rate, color=colour.get(2, "0.3"), ls="-", lw=1.6)
    style.mark(ax2, ch.L, f"training $L = {ch.L}$")
    x = grid[int(0.9 * len(grid))]
    ax2.annotate(
        r"linear: $\hat\eta L'/n$",
        (x, eta * x / st.n),
        xytext=(-6, 2),
        textcoords="offset points",
        ha="right",
        va="bottom",
    )
    ax2.annotate(
        r"softmax: $\Sigma_h\,\omega_h\mu_h$",
        (grid[-1], rate),
        xytext=(0, -4),
        textcoords="offset points",
        ha="right",
        va="top",
    )
    ax2.set(
        xscale="log",
        yscale="log",
        xlabel="number of in-context examples $L'$",
        ylabel="GD rate applied at $L'$",
    )
    models = [_line(f"$H = {H}$", color=colour[H], lw=2.2) for H in heads]
    models += [_line(n, ls=s["ls"], marker=s["marker"], ms=4) for n, s in _NORM_STYLE.items()]
    _legend_below(ax, models, ncol=2, title="models (mean over seeds)")
    refs = [_ref_handle(kind, label) for kind, label in _REF.values()]
    refs[0].set_label(r"vanilla GD at $\eta^*(L')$; right: $\eta^*(L')$")
    refs.append(_ref_handle("theory", r"linear read as GD (exact, mean $\hat\eta$)"))
    _legend_below(ax2, refs, title="references")
    return fig


def plot_construction(st: Study):
    """(5.2): the relative RMS difference of the 2H-head softmax model and the linear model against the
    logit scale, on centred tokens (with the slope 2 of the expansion) and on the prompts as they come
    (every linear model: the second term of (5.2) is left)."""
    import matplotlib.pyplot as plt

    con = st.construction
    blue, vermilion = style.config_colours(6)[0], style.config_colours(6)[5]  # Okabe–Ito
    fig, ax = plt.subplots(figsize=style.figsize(1, width=5.4, aspect=0.62))
    ax.loglog(con.scales, con.errors, "o-", color=blue, label=f"centred tokens (slope {con.slope:.2f})")
    ref = con.errors[-1] * (con.scales / con.scales[-1]) ** 2
    style.reference(ax, con.scales, ref, "theory", label="slope 2 (the expansion's order)")
    raw = "tokens as they come (each linear model)"
    for i, e in enumerate(con.raw.values()):
        ax.loglog(con.scales, e, "s-", color=vermilion, lw=1.2, alpha=0.7, label="_nolegend_" if i else raw)
    ax.set(xlabel=r"logit scale $\varepsilon \cdot \max_h|\omega_h|$", ylabel="relative RMS difference")
    ax.set_xticks(con.scales, [f"{x:g}" for x in con.scales], minor=False)
    ax.set_xticks([], minor=True)
    h, lab = ax.get_legend_handles_labels()
    order = [lab.index(n) for n in lab if not n.startswith("slope")] + [
        lab.index(n) for n in lab if n.startswith("slope")
    ]
    _legend_below(ax, [h[i] for i in order])
    return fig


# --- §5.2: other normalised activations ----------------------------------------------------------


def plot_activation_circuits(st: Study):
    """Fig. 9: per two-head activation model (columns, first seed): each head's KQ circuit (keys ×
    query x-coordinates, rows 1–2) and the OV rows that write y (row 3, one line per head); KQ on one
    colour scale for every model, OV on another, each with its colour bar."""
    import matplotlib.pyplot as plt

    d = st.ch.d
    keys = [k for k in st.activation_keys() if k[1] == 2 and k[2] == st.keys(k[0], 2)[0][2]]
    labels = coordinate_labels(d)
    kq = {k: st.runs[k].kq[:, :, :d] for k in keys}  # (2, D, d)
    ov = {k: st.runs[k].ov[:, d, :] for k in keys}  # (2, D)
    vk = max(float(np.abs(v).max()) for v in kq.values()) or 1.0
    vo = max(float(np.abs(v).max()) for v in ov.values()) or 1.0
    n = len(keys)
    fig, axes = plt.subplots(
        3,
        n,
        figsize=(style.FULL_WIDTH, 5.6),
        squeeze=False,
        gridspec_kw={"height_ratios": [d + 1, d + 1, 2.2]},
    )
    for i, k in enumerate(keys):
        for h in range(2):
            ax = axes[h, i]
            im_k = ax.imshow(kq[k][h], cmap="RdBu_r", vmin=-vk, vmax=vk, aspect="auto")
            ax.set_xticks(range(d), labels[:d])
            ax.set_yticks(range(d + 1), labels if i == 0 else [])
        ax = axes[2, i]
        im_o = ax.imshow(ov[k], cmap="RdBu_r", vmin=-vo, vmax=vo, aspect="auto")
        ax.set_xticks(range(d + 1), labels)
        ax.set_yticks(range(2), ["1", "2"] if i == 0 else [])
        axes[0, i].set_title(NAMES[k[0]])
    for ax in axes.flat:
        ax.grid(False)
        ax.tick_params(length=0, pad=2)
    axes[0, 0].set_ylabel("KQ, head 1: key")
    axes[1, 0].set_ylabel("KQ, head 2: key")
    axes[2, 0].set_ylabel("OV $y$-row:\nhead")
    for h in range(2):
        axes[h, n // 2].set_xlabel("query")
    style.colorbar(im_k, list(axes[:2].flat), label="KQ entry", shrink=0.85)
    style.colorbar(im_o, list(axes[2]), label="OV entry")
    return fig


def plot_activation_dynamics(st: Study):
    """Fig. 10: ω_h and μ_h against the step for every activation model (first seed), heads coloured by
    their final group (`icl.core.circuits.head_groups`); one legend of groups for the figure."""
    import matplotlib.pyplot as plt

    keys = [k for k in st.activation_keys() if k[2] == st.keys(k[0], k[1])[0][2]]
    fig, axes = plt.subplots(
        len(keys), 2, figsize=(style.FULL_WIDTH, 1.85 * len(keys) + 0.9), squeeze=False, sharex=True
    )
    present, sums = set(), False
    for i, (ax, k) in enumerate(zip(axes, keys)):
        r = st.runs[k]
        h = r.history()
        groups = head_groups(h.omega[-1], h.mu[-1])
        present |= set(groups.tolist())
        sums |= any((groups == g).sum() > 1 for g in (+1, -1))
        plot_head_dynamics(r.snapshot_steps, h.omega, h.mu, groups, axes=ax, legend=False)
        name = NAMES[k[0]] + f", $H = {k[1]}$"
        ax[0].set_title(name + r": KQ scale $\omega_h$")
        ax[1].set_title(name + r": OV scale $\mu_h$")
        if i < len(keys) - 1:
            ax[0].set_xlabel("")
            ax[1].set_xlabel("")
    handles = [_line(f"{style.SIGN_NAME[g]} heads", color=style.SIGN[g], lw=2) for g in (+1, -1, 0) if g in present]
    if sums:
        handles += [
            _line(rf"$\Sigma_{{h\in {s}}}\,\mu_h$", color=style.SIGN[g], ls="--", lw=1.3)
            for g, s in ((+1, "+"), (-1, "-"))
        ]
    handles.append(_line(r"$\Sigma_h\,\mu_h$", color="k", ls="--", lw=1.3))
    style.legend_outside(fig, handles=handles, loc="outside upper center", ncol=len(handles), frameon=False)
    return fig


def _smooth(steps, means, w: int = _LOSS_WINDOW):
    """A moving mean over w consecutive log-spaced bins (centred; the ends, with fewer bins, left out)."""
    steps, means = np.asarray(steps), np.asarray(means, float)
    if len(means) <= w:
        return steps, means
    return steps[w // 2 : len(steps) - w // 2], np.convolve(means, np.ones(w) / w, mode="valid")


def _end_title(ends: dict) -> str:
    """'ends ±: seeds 0, 2' and 'ends one sign: seed 1', a line each, from seed → final pattern."""
    lines = []
    for pattern in ("±", "not zero-sum", "one sign"):
        s = [str(seed) for seed, p in ends.items() if p == pattern]
        if s:
            lines.append(f"ends {pattern}: seed{'s' if len(s) > 1 else ''} {', '.join(s)}")
    return "\n".join(lines)


def plot_zero_sum_dynamics(st: Study):
    """Which pattern each two-head run ends in: one panel pair per configuration (softmax and every f): the
    zero-sum ratio |Σ_h μ_h|/Σ_h |μ_h| (top) and the training loss (bottom, a moving mean over log-spaced
    bins) against the step, one line style per seed; each title names the seeds' final patterns."""
    import matplotlib.pyplot as plt

    ch = st.ch
    keys = st.keys("softmax", 2) + [k for k in st.activation_keys() if k[1] == 2]
    names = list(dict.fromkeys(k[0] for k in keys))
    seeds = sorted({k[2] for k in keys})
    colours = config_colour_map(st)
    ends = end_patterns(st, keys)
    ncol = min(3, len(names))
    nrow = -(-len(names) // ncol)
    fig = plt.figure(figsize=(style.FULL_WIDTH, 3.55 * nrow + 0.5))
    gs = fig.add_gridspec(2 * nrow, ncol, height_ratios=[1.0, 0.72] * nrow)
    first = {}
    for i, n in enumerate(names):
        r, c = divmod(i, ncol)
        a0 = fig.add_subplot(gs[2 * r, c], sharex=first.get("r"), sharey=first.get("r"))
        a1 = fig.add_subplot(gs[2 * r + 1, c], sharex=a0, sharey=first.get("l"))
        first.setdefault("r", a0)
        first.setdefault("l", a1)
        for k in (k for k in keys if k[0] == n):
            run = st.runs[k]
            keep = run.snapshot_steps > 0
            kw = dict(color=colours[(n, 2)], ls=style.seed_style(seeds.index(k[2])), lw=1.6)
            a0.plot(run.snapshot_steps[keep], zero_sum_ratio(run.history().mu)[keep], **kw)
            a1.plot(*_smooth(*run.loss_curve()), **kw)
        a0.axhline(ch.tol.zero_sum, color="0.3", lw=1.0, ls=(0, (1, 1.5)), zorder=1)
        a0.set_title(NAMES[n] + "\n" + _end_title({k[2]: ends[k] for k in keys if k[0] == n}), fontsize=9.5)
        a0.set(xscale="log", ylim=(-0.04, 1.06))
        a0.tick_params(labelbottom=False)
        a1.set(xscale="log", xlabel="Adam step" if r == nrow - 1 else "")
        if c == 0:
            a0.set_ylabel(r"$|\Sigma_h \mu_h| \,/\, \Sigma_h |\mu_h|$")
            a1.set_ylabel("training loss")
        else:
            a0.tick_params(labelleft=False)
            a1.tick_params(labelleft=False)
    handles = [_line(f"seed {s}", ls=style.seed_style(j)) for j, s in enumerate(seeds)]
    handles.append(_line(f"zero-sum tolerance ({ch.tol.zero_sum:g})", color="0.3", lw=1.0, ls=(0, (1, 1.5))))
    style.legend_outside(fig, handles=handles, loc="outside upper center", ncol=len(handles), frameon=False)
    return fig


def plot_activation_risks(st: Study):
    """Fig. 11: risk against L' of every activation model (one colour per configuration, one line style per
    seed) with debiased GD at η_eff and Bayes drawn above them (left), and each model's risk relative to
    debiased GD's on the same prompts (right), the runs that end without the ± pattern named at their line end."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    ch = st.ch
    keys = st.keys("softmax", 2)[:1] + st.activation_keys()
    seeds = sorted({k[2] for k in keys})
    colours = config_colour_map(st)
    ends = end_patterns(st, keys)
    L = st.curves.lengths
    dgd, bayes = st.curves.mean("dgd"), st.curves.mean("bayes")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=style.figsize(2, width=style.FULL_WIDTH, aspect=0.9))
    outliers = []
    for k in keys:
        kw = dict(color=colours[k[:2]], ls=style.seed_style(seeds.index(k[2])), lw=1.5, marker="o", ms=3)
        m = st.curves.mean(k)
        ax.errorbar(L, m, yerr=2 * st.curves.se(k), capsize=2, **kw)
        ax2.plot(L, m / dgd - 1, **kw)
        if ends[k] != "±":
            outliers.append((float(m[-1] / dgd[-1] - 1), k))
    label = _REF["dgd"][1]
    style.reference(ax, L, dgd, "dgd", label=label)
    style.reference(ax, L, bayes, "bayes", label="Bayes (ridge)")
    style.reference(ax2, 0.0, kind="dgd", label=label)
    for a in (ax, ax2):
        style.mark(a, ch.L, f"training $L = {ch.L}$")
        a.set(xscale="log", xlabel="number of in-context examples $L'$")
    ax.set(ylabel="ICL risk")
    ax2.set(ylabel="risk / debiased GD's − 1")
    ax2.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    cfgs = [c for c in activation_configs(st) if any(k[:2] == c for k in keys)]
    _legend_below(
        ax, [_line(_config_name(c), color=colours[c], lw=2.2) for c in cfgs], ncol=2, title="f (two heads unless named)"
    )
    handles = [_line(f"seed {s}", ls=style.seed_style(j)) for j, s in enumerate(seeds)]
    handles += [_ref_handle("dgd", label), _ref_handle("bayes", "Bayes (ridge; left only)")]
    _legend_below(ax2, handles, ncol=1, title="seeds and references")
    if outliers:
        _label_line_ends(ax2, L[-1], [(y, f"{NAMES[k[0]]}, seed {k[2]}", colours[k[:2]]) for y, k in outliers])
    return fig


def _label_line_ends(ax, x, labels, *, gap_pt: float = 12.0):
    """Name lines at their end x, right of the axes: labels [(y, text, colour)], stacked at least gap_pt apart
    (measured once the layout is done), each joined to its line's end."""
    fig = ax.figure
    texts = [
        ax.annotate(
            t,
            (x, y),
            xytext=(1.06, y),
            textcoords=("axes fraction", "data"),
            va="center",
            color=c,
            annotation_clip=False,
            arrowprops=dict(arrowstyle="-", color=c, lw=0.8, relpos=(0, 0.5), shrinkA=2, shrinkB=2),
        )
        for y, t, c in labels
    ]
    fig.draw_without_rendering()  # the axes' final height: the gap in data units
    lo, hi = ax.get_ylim()
    gap = gap_pt / (ax.get_window_extent().height * 72 / fig.dpi) * (hi - lo)
    order = sorted(range(len(labels)), key=lambda i: labels[i][0])
    pos, prev = {}, -np.inf
    for i in order:
        pos[i] = prev = max(labels[i][0], prev + gap)
    shift = min(0.0, hi - gap / 2 - prev)  # keep the stack within the axes' height
    for i, t in enumerate(texts):
        t.set_position((1.06, pos[i] + shift))
