"""The book's visual language, in one place: one meaning per colour, line style and symbol.

- **Heads** are coloured by the sign of their OV scale μ_h: positive red, negative blue, dummy grey
  (`SIGN`, `sign_colour`), in every chapter; never by head index.
- **Configurations** (a head count, a length, an activation) get one colour each from
  `config_colours(n)` (a qualitative palette up to 7, an ordered colour map beyond), **seeds** a line
  style each (`SEED_STYLES`); a legend names configurations and seeds, never every run
  (`config_seed_legend`).
- **Reference estimators and predictions** have fixed styles (`REFERENCE`) and are drawn on top of
  the data (`reference`), so a model curve never hides them.
- **Symbols** are mathtext (`SYMBOL`): ω_h is `$\\omega_h$`, η_eff is `$\\eta_{\\mathrm{eff}}$`.
- **Sizes**: at most `FULL_WIDTH` inches wide with no text under `MIN_FONT_PT`, so that every text
  reads at ≥ 8 pt in the book's column (`icl.book.figure_audit` checks it); `figsize` lays out panels
  within that budget. Heatmaps carry a colour bar (`colorbar`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SIGN",
    "SIGN_NAME",
    "SEED_STYLES",
    "REFERENCE",
    "SYMBOL",
    "FULL_WIDTH",
    "MIN_FONT_PT",
    "use_style",
    "sign_colour",
    "config_colours",
    "seed_style",
    "reference",
    "reference_handle",
    "config_seed_legend",
    "legend_outside",
    "mark",
    "colorbar",
    "figsize",
]

SIGN = {+1: "#c0392b", -1: "#2166ac", 0: "#8c8c8c"}  # heads: positive μ_h, negative μ_h, dummy
SIGN_NAME = {+1: "+", -1: "−", 0: "dummy"}
SEED_STYLES = ("-", "--", ":", "-.")
# Okabe–Ito without its black (debiased GD's colour), its green last (beside Bayes's green), its
# yellow darkened to ochre so that thin lines read on white
_QUALITATIVE = ("#0072b2", "#e69f00", "#cc79a7", "#56b4e9", "#d55e00", "#b59a00", "#009e73")

# Reference estimators and predictions: fixed colour and dash, drawn above the data (zorder ≥ 5).
REFERENCE = {
    "dgd": dict(color="black", ls="--", lw=1.8, label="debiased GD"),
    "gd": dict(color="#6a3d9a", ls="-.", lw=1.6, label="GD (one step)"),
    "bayes": dict(color="#1b7837", ls=":", lw=2.2, label="Bayes"),
    "ols": dict(color="#8c510a", ls=(0, (5, 1, 1, 1)), lw=1.6, label="least squares"),
    "theory": dict(color="0.15", ls=(0, (1, 1.5)), lw=2.0, label="theory"),
    "ode": dict(color="0.15", ls=(0, (1, 1.5)), lw=2.0, label="ODE"),
    "floor": dict(color="0.45", ls=(0, (4, 2)), lw=1.2, label="floor"),
}

SYMBOL = {
    "omega": r"$\omega$",
    "omega_h": r"$\omega_h$",
    "mu": r"$\mu$",
    "mu_h": r"$\mu_h$",
    "sum_omega_mu": r"$\sum_h \omega_h\mu_h$",
    "eta_eff": r"$\eta_{\mathrm{eff}}$",
    "L": r"$L$",
    "L_test": r"$L'$",
    "e1": r"$e_1$",
    "risk_tf": r"$\mathcal{R}_{\mathrm{TF}}$",
    "risk_dgd": r"$\mathcal{R}_{\mathrm{dGD}}$",
    "sigma2": r"$\sigma^2$",
}

FULL_WIDTH = 7.8  # inches: at savefig.dpi 150 the book's 672 px column shows MIN_FONT_PT text at ≥ 8 pt
PANEL_WIDTH = 2.6  # inches: one panel of a row, before the row is held to FULL_WIDTH
MIN_FONT_PT = 9.0


def use_style():
    """The book's figure style: seaborn's white grid, text sizes of at least MIN_FONT_PT."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper")
    mpl.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "font.size": 10,
            "axes.titlesize": 10.5,
            "axes.titleweight": "bold",
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "legend.title_fontsize": 9,
            "figure.titlesize": 11,
            "figure.constrained_layout.use": True,
            "lines.linewidth": 1.6,
        }
    )


def sign_colour(g) -> str:
    """The colour of a head in group g ∈ {+1, −1, 0} (positive, negative, dummy)."""
    if int(g) not in SIGN:
        raise ValueError(f"a head's group must be +1, -1 or 0, got {g!r}")
    return SIGN[int(g)]


def config_colours(n: int, cmap: str = "viridis") -> list:
    """n distinct colours for n configurations: the Okabe–Ito palette up to 7, an ordered colour map
    beyond (never a cycling palette, whose repeats make two legend entries match one curve)."""
    if n < 0:
        raise ValueError(f"n must be ≥ 0, got {n}")
    if n <= len(_QUALITATIVE):
        return list(_QUALITATIVE[:n])
    import matplotlib as mpl

    return [mpl.colormaps[cmap](x) for x in np.linspace(0.0, 0.9, n)]


def seed_style(k: int) -> str:
    """The line style of the k-th seed."""
    return SEED_STYLES[k % len(SEED_STYLES)]


def reference(ax, x, y=None, kind: str = "dgd", *, label: str | None = None, **kw):
    """Draw a reference in its fixed style, above the data: a curve (x, y), or a horizontal line at x
    when y is None. label=None uses the style's label; label="" leaves it out of the legend."""
    if kind not in REFERENCE:
        raise ValueError(f"kind must be one of {sorted(REFERENCE)}, got {kind!r}")
    style = {**REFERENCE[kind], "zorder": 6, **kw}
    style["label"] = style["label"] if label is None else (label or "_nolegend_")
    if y is None:
        return ax.axhline(x, **style)
    return ax.plot(x, y, **style)[0]


def reference_handle(kind: str, label: str | None = None, **overrides):
    """A legend entry in REFERENCE[kind]'s style (label: the style's own by default; overrides, e.g. a
    colour, replace parts of the style)."""
    from matplotlib.lines import Line2D

    if kind not in REFERENCE:
        raise ValueError(f"kind must be one of {sorted(REFERENCE)}, got {kind!r}")
    style = {k: v for k, v in REFERENCE[kind].items() if k != "label"}
    return Line2D([], [], **{**style, **overrides}, label=REFERENCE[kind]["label"] if label is None else label)


def config_seed_legend(ax, configs: dict, seeds=(), *, title: str | None = None, refs=(), **kw):
    """One legend naming configurations (name → colour), seeds (line styles) and references (kinds of
    REFERENCE, or (label, kind) pairs): len(configs) + len(seeds) + len(refs) entries, however many runs."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, lw=2.2, label=str(name)) for name, c in configs.items()]
    handles += [Line2D([], [], color="0.3", ls=seed_style(k), label=f"seed {s}") for k, s in enumerate(seeds)]
    for r in refs:
        label, kind = r if isinstance(r, tuple) else (None, r)
        handles.append(reference_handle(kind, label or None))
    return legend_outside(ax, handles=handles, title=title, **kw)


def legend_outside(ax_or_fig, *, handles=None, loc: str = "outside right upper", **kw):
    """A legend outside the data: beside the figure (loc 'outside right upper', 'outside lower center',
    …, with constrained layout) when given a figure, at the axes' right edge when given axes."""
    from matplotlib.figure import Figure

    if isinstance(ax_or_fig, Figure):
        fig = ax_or_fig
        handles = handles if handles is not None else _unique_handles(fig.axes)
        return fig.legend(handles=handles, loc=loc, **kw)
    handles = handles if handles is not None else ax_or_fig.get_legend_handles_labels()[0]
    return ax_or_fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, **kw)


def _unique_handles(axes):
    seen, out = set(), []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in seen and not lab.startswith("_"):
                seen.add(lab)
                out.append(h)
    return out


def mark(ax, x, text: str, *, color: str = "0.35", ls: str = ":"):
    """A vertical event line at x, labelled above the axes (not over the data)."""
    ax.axvline(x, color=color, ls=ls, lw=1.2, zorder=4)
    ax.annotate(
        text,
        (x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(0, 2),
        textcoords="offset points",
        ha="center",
        va="bottom",
        color=color,
        fontsize=MIN_FONT_PT,
        annotation_clip=False,
    )


def colorbar(mappable, ax, *, label: str | None = None, **kw):
    """A colour bar for a heatmap (or a row of heatmaps sharing one scale: ax a list of axes)."""
    fig = mappable.figure if getattr(mappable, "figure", None) is not None else np.atleast_1d(ax)[0].figure
    cb = fig.colorbar(mappable, ax=ax, **kw)
    if label:
        cb.set_label(label)
    return cb


def figsize(cols: int = 1, rows: int = 1, *, aspect: float = 0.75, width: float | None = None) -> tuple:
    """A figure size within the width budget: cols panels of PANEL_WIDTH, held to FULL_WIDTH; each
    panel aspect × its width tall. width: the total, in inches (at most FULL_WIDTH)."""
    if cols < 1 or rows < 1:
        raise ValueError(f"cols and rows must be ≥ 1, got {cols}, {rows}")
    if width is not None and not 0 < width <= FULL_WIDTH:
        raise ValueError(f"width must be in (0, {FULL_WIDTH}] inches, got {width}")
    w = width if width is not None else min(FULL_WIDTH, cols * PANEL_WIDTH)
    return (w, rows * aspect * w / cols + 0.3)
