"""What can be checked mechanically in a chapter's figure (issue 30's visual language): its size in
pixels as saved, legend lengths, symbols written as plain text instead of mathtext, heatmaps
without a colour bar. `icl.book.chapter.glue_figure` records the audit beside each saved PNG
(`figures/<key>.audit.json`); `tools/contact_sheet.py` shows every figure with its flags.
"""

from __future__ import annotations

import re

__all__ = ["MAX_WIDTH_PX", "MAX_LEGEND", "audit", "problems"]

MAX_WIDTH_PX = 2200  # wider, and the book's ~750 px column shrinks 8 pt text below ~3 pt
MAX_LEGEND = 8  # entries one legend may list before a reader stops matching colours
_PLAIN_SUBSCRIPT = re.compile(r"(?<![\\$\w])[A-Za-zα-ωΑ-Ω]+_[A-Za-z0-9{]")  # e.g. "eta_eff", "ω_h" outside $…$


def _outside_math(text: str) -> str:
    """The parts of a matplotlib text that mathtext does not render ($…$ removed)."""
    return re.sub(r"\$[^$]*\$", "", text)


def audit(fig, png: bytes) -> dict:
    """The mechanical facts of `fig`, saved as `png`: width and height in pixels, the longest legend,
    texts with a plain-text subscript (`x_1` outside `$…$`), the image artists (heatmaps) and the
    colour bars of the figure."""
    from matplotlib.collections import QuadMesh
    from matplotlib.image import AxesImage
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # PNG header
    legends = fig.findobj(Legend)
    texts = [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    plain = sorted({t for t in texts if _PLAIN_SUBSCRIPT.search(_outside_math(t))})
    colorbars = [a for a in fig.axes if a.get_label() == "<colorbar>"]
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
        "images": len(images),
        "colorbars": len(colorbars),
    }


def problems(a: dict) -> list[str]:
    """The audit's departures from the visual language, in words (empty: none found)."""
    out = []
    if a["width_px"] > MAX_WIDTH_PX:
        out.append(f"{a['width_px']} px wide (at most {MAX_WIDTH_PX})")
    if a["legend_entries"] > MAX_LEGEND:
        out.append(f"a legend of {a['legend_entries']} entries (at most {MAX_LEGEND})")
    if a["plain_subscripts"]:
        out.append("plain-text subscripts: " + ", ".join(repr(t) for t in a["plain_subscripts"][:4]))
    if a["images"] and not a["colorbars"]:
        out.append(f"{a['images']} heatmap(s) without a colour bar")
    return out
