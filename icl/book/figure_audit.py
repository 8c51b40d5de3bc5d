"""What can be checked mechanically in a chapter's figure (issue 30's visual language): its size in
pixels as saved, legend lengths, symbols written as plain text instead of mathtext, heatmaps
without a colour bar. `icl.book.chapter.glue_figure` records the audit beside each saved PNG
(`figures/<key>.audit.json`); `tools/contact_sheet.py` shows every figure with its flags.
"""

from __future__ import annotations

import re

__all__ = ["MAX_WIDTH_PX", "MAX_LEGEND", "MIN_READ_PT", "COLUMN_PX", "audit", "problems"]

MAX_WIDTH_PX = 2200  # a hard bound, whatever the text size
MAX_LEGEND = 8  # entries one legend may list before a reader stops matching colours
MIN_READ_PT = 8.0  # the smallest text, as the book's column shows it
COLUMN_PX = 672  # the width (CSS px) the book gives a figure in a 1280 px window (measured in Chromium)
CSS_DPI = 96
_PLAIN_SUBSCRIPT = re.compile(r"(?<![\\$\w])[A-Za-zα-ωΑ-Ω]+_[A-Za-z0-9{]")  # e.g. "eta_eff", "ω_h" outside $…$


def _outside_math(text: str) -> str:
    """The parts of a matplotlib text that mathtext does not render ($…$ removed)."""
    return re.sub(r"\$[^$]*\$", "", text)


def read_pt(font_pt: float, width_px: int, dpi: float, display_dpi: float | None = None) -> float:
    """The size at which the book shows text of font_pt in a PNG width_px wide saved at dpi: the
    page displays it at display_dpi (the figure's dpi; default dpi), shrunk to the column if wider."""
    shown = width_px * (display_dpi or dpi) / dpi
    return font_pt * dpi / CSS_DPI * min(shown, COLUMN_PX) / width_px


def audit(fig, png: bytes, dpi: float | None = None) -> dict:
    """The mechanical facts of `fig`, saved as `png` at dpi (default savefig.dpi): width and height in
    pixels, the smallest text (its font size, and its size as the book's column shows it), the longest
    legend, texts with a plain-text subscript (`x_1` outside `$…$`), the image artists (heatmaps) and
    those whose colour scale no colour bar shows."""
    import matplotlib as mpl
    from matplotlib.collections import QuadMesh
    from matplotlib.image import AxesImage
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # PNG header
    legends = fig.findobj(Legend)
    if dpi is None:
        dpi = mpl.rcParams["savefig.dpi"]
        dpi = fig.dpi if dpi == "figure" else float(dpi)
    shown = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    texts = [t.get_text() for t in shown]
    plain = sorted({t for t in texts if _PLAIN_SUBSCRIPT.search(_outside_math(t))})
    min_pt = min((t.get_fontsize() for t in shown), default=0.0)
    colorbars = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    scales = {_scale(a._colorbar.mappable) for a in colorbars if hasattr(a, "_colorbar")}
    images = [
        im
        for ax in fig.axes
        if ax.get_label() != "<colorbar>"
        for im in [*ax.images, *[c for c in ax.collections if isinstance(c, QuadMesh)]]
        if isinstance(im, (AxesImage, QuadMesh))
    ]
    return {
        "width_px": width,
        "height_px": height,
        "legend_entries": max((len(lg.get_texts()) for lg in legends), default=0),
        "plain_subscripts": plain,
        "min_font_pt": round(float(min_pt), 2),
        "read_pt": round(read_pt(min_pt, width, dpi, fig.dpi), 2) if shown else None,
        "images": len(images),
        "colorbars": len(colorbars),
        "images_without_scale": sum(_scale(im) not in scales for im in images),
    }


def _scale(mappable) -> tuple:
    """What a colour bar shows of an image: its colour map and limits."""
    lo, hi = mappable.get_clim()
    return (mappable.get_cmap().name, round(float(lo), 9), round(float(hi), 9))


def problems(a: dict) -> list[str]:
    """The audit's departures from the visual language, in words (empty: none found)."""
    out = []
    if a["width_px"] > MAX_WIDTH_PX:
        out.append(f"{a['width_px']} px wide (at most {MAX_WIDTH_PX})")
    if a["legend_entries"] > MAX_LEGEND:
        out.append(f"a legend of {a['legend_entries']} entries (at most {MAX_LEGEND})")
    if a["plain_subscripts"]:
        out.append("plain-text subscripts: " + ", ".join(repr(t) for t in a["plain_subscripts"][:4]))
    if a.get("read_pt") is not None and a["read_pt"] < MIN_READ_PT - 0.05:
        pt, read = a["min_font_pt"], a["read_pt"]
        out.append(f"text of {pt:g} pt reads at {read:.1f} pt in the book (at least {MIN_READ_PT:g})")
    if a.get("images_without_scale", a["images"] if not a["colorbars"] else 0):
        n = a.get("images_without_scale", a["images"])
        out.append(f"{n} heatmap(s) without a colour bar showing their scale")
    return out
