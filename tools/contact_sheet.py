#!/usr/bin/env python3
"""A contact sheet of every figure an execution of the book saved: one HTML page, the figures in
chapter order, each with its size and the departures its audit found (`icl.book.figure_audit`),
for reviewing the whole book's figures at once.

usage: contact_sheet.py FIGURES_DIR OUT.html   (e.g. executed/figures _build/figures.html)
Prints one line per figure with a problem and a count; exits 0.
"""

import html
import json
import os
import sys
from pathlib import Path

from icl.book.figure_audit import problems


def main(figures: str, out: str) -> int:
    src, dst = Path(figures), Path(out)
    cells, flagged = [], 0
    for png in sorted(src.glob("*.png")):
        meta = png.with_name(png.stem + ".audit.json")
        found = problems(json.loads(meta.read_text())) if meta.exists() else ["no audit recorded"]
        a = json.loads(meta.read_text()) if meta.exists() else {}
        flagged += bool(found)
        for p in found:
            print(f"{png.stem}: {p}")
        size = f"{a.get('width_px', '?')} × {a.get('height_px', '?')} px"
        notes = "".join(f"<li>{html.escape(p)}</li>" for p in found) or "<li>no problem found</li>"
        rel = os.path.relpath(png, dst.parent)
        cells.append(
            f'<figure style="margin: 0 0 2em 0;"><img src="{html.escape(rel)}" style="max-width: 100%; '
            f'border: 1px solid #ddd;"><figcaption><strong>{html.escape(png.stem)}</strong> ({size})'
            f"<ul>{notes}</ul></figcaption></figure>"
        )
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(
        "<!doctype html><meta charset='utf-8'><title>Figures</title>"
        "<body style='font-family: sans-serif; max-width: 900px; margin: auto;'>"
        f"<h1>Every figure ({len(cells)}; {flagged} with a problem)</h1>" + "".join(cells) + "</body>"
    )
    print(f"{dst}: {len(cells)} figures, {flagged} with a problem")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
