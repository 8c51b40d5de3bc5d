#!/usr/bin/env python3
"""A contact sheet of every figure an execution of the book saved: one HTML page, the figures in
chapter order, each with its size and the departures its audit found (`icl.book.figure_audit`),
for reviewing the whole book's figures at once.

usage: contact_sheet.py [--check] FIGURES_DIR OUT.html   (e.g. executed/figures _build/html/figures.html)
Each figure is shown at the width the book's column gives it (so its text reads as in the book); the
PNGs are copied beside the page (OUT_files/), so the page travels with the site. Prints one line per
figure with a problem and a count; exits 1 with --check when a figure has a problem, else 0.
"""

import html
import json
import shutil
import sys
from pathlib import Path

from icl.book.figure_audit import COLUMN_PX, problems

DISPLAY_SCALE = 110 / 150  # the book glues a figure at its dpi (110) over the saved dpi (150)


def main(figures: str, out: str, check: bool = False) -> int:
    src, dst = Path(figures), Path(out)
    files = dst.with_name(dst.stem + "_files")
    shutil.rmtree(files, ignore_errors=True)
    files.mkdir(parents=True)
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
        shutil.copy(png, files / png.name)
        rel = f"{files.name}/{png.name}"
        shown = min(COLUMN_PX, round(a.get("width_px", COLUMN_PX) * DISPLAY_SCALE))
        cells.append(
            f'<figure style="margin: 0 0 2em 0;"><img src="{html.escape(rel)}" alt="{html.escape(png.stem)}" '
            f'style="width: {shown}px; border: 1px solid #ddd;"><figcaption><strong>{html.escape(png.stem)}'
            f"</strong> ({size}, shown {shown} px wide as in the book)<ul>{notes}</ul></figcaption></figure>"
        )
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(
        "<!doctype html><meta charset='utf-8'><title>Figures</title>"
        "<body style='font-family: sans-serif; max-width: 900px; margin: auto;'>"
        f"<h1>Every figure ({len(cells)}; {flagged} with a problem)</h1>" + "".join(cells) + "</body>"
    )
    print(f"{dst}: {len(cells)} figures, {flagged} with a problem")
    if not cells:
        print(f"no figure found in {src}", file=sys.stderr)
        return 1
    return 1 if check and flagged else 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) != 2:
        sys.exit(__doc__)
    sys.exit(main(*args, check="--check" in sys.argv[1:]))
