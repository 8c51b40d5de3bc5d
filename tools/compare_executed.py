#!/usr/bin/env python3
"""Compare two executions of the book's chapters: what a refactoring must leave unchanged.

usage: compare_executed.py BEFORE_DIR AFTER_DIR [CHAPTER_PREFIX ...]

Each DIR is an `icl chapters --out DIR` folder. Compared, chapter by chapter: every glued value
(the text a sentence shows, or the PNG of a glued figure), the claims file (every claim's fields,
the run's timing and arithmetic record left out), and the saved figures (PNG bytes). Prints each
difference and exits 1 if there is one, 0 if the two executions agree exactly.
"""

import hashlib
import json
import sys
from pathlib import Path

import nbformat

_VOLATILE = {"created", "written", "git", "timing", "arithmetic", "elapsed_s", "seconds"}


def glued(path: Path) -> dict:
    """key -> glued text (or the sha256 of a glued image), read from an executed notebook."""
    out = {}
    for cell in nbformat.read(path, as_version=4).cells:
        for o in cell.get("outputs", []):
            book = o.get("metadata", {}).get("scrapbook", {})
            if "name" not in book:
                continue
            name, prefix = book["name"], book.get("mime_prefix", "")
            data = {k[len(prefix) :]: v for k, v in o.get("data", {}).items() if k.startswith(prefix)}
            if "image/png" in data:
                out[name] = "png:" + hashlib.sha256(data["image/png"].encode()).hexdigest()[:16]
            else:
                out[name] = data.get("text/plain")
    if out and all(v is None for v in out.values()):
        raise SystemExit(f"{path}: glued outputs found but none could be read (a new myst-nb format?)")
    return out


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in _VOLATILE}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def claims(path: Path) -> dict:
    """claim id -> the claim's fields, from a chapter's claims file."""
    if not path.exists():
        return {}
    return {c["id"]: _strip(c) for c in json.loads(path.read_text())["claims"]}


def figures(folder: Path, prefix: str) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in sorted(folder.glob(f"{prefix}*.png"))}


def diff(kind: str, a: dict, b: dict) -> list[str]:
    lines = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            lines.append(f"  {kind} {k}: {a.get(k, '<missing>')!r} -> {b.get(k, '<missing>')!r}")
    return lines


def main(before: str, after: str, *only: str) -> int:
    A, B = Path(before), Path(after)
    bad = 0
    for nb in sorted(A.glob("[0-9][0-9]_*.ipynb")):
        if only and not any(nb.stem.startswith(p) for p in only):
            continue
        other = B / nb.name
        if not other.exists():
            print(f"{nb.stem}: missing in {B}")
            bad += 1
            continue
        ga, gb = glued(nb), glued(other)
        lines = diff("glue", ga, gb)
        lines += diff("claim", claims(A / "claims" / f"{nb.stem}.json"), claims(B / "claims" / f"{nb.stem}.json"))
        prefixes = {k.split("-")[0] for k in ga if str(ga[k]).startswith("png:")}
        for p in sorted(prefixes):
            lines += diff("figure", figures(A / "figures", p + "-"), figures(B / "figures", p + "-"))
        print(f"{nb.stem}: {len(ga)} glued values, " + ("the same" if not lines else f"{len(lines)} differences"))
        print("\n".join(lines)) if lines else None
        bad += bool(lines)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
