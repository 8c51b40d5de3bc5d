#!/usr/bin/env python3
"""How each chapter reads: the share of its non-blank lines that are code (jupytext py:percent
sources; markdown lines that are only "#" do not count), its longest code cell, its longest
function defined in the chapter. Exit 1 when a chapter is over a limit.

usage: chapter_shape.py [NOTEBOOK_DIR] [--max-code 0.35] [--max-cell 30] [--max-func 10] [--exempt 99_]
"""

import argparse
import ast
import re
import sys
from pathlib import Path


def cells(path: Path) -> list[tuple[str, list[str]]]:
    out, kind, cur = [], None, []
    for line in path.read_text().splitlines():
        head = re.match(r"^# %%(.*)$", line)
        if head:
            if kind:
                out.append((kind, cur))
            kind, cur = ("md" if "[markdown]" in head.group(1) else "code"), []
        elif kind:
            cur.append(line)
    if kind:
        out.append((kind, cur))
    return out


def shape(path: Path) -> dict:
    cs = cells(path)
    code = [c for k, c in cs if k == "code"]
    n_code = sum(1 for c in code for line in c if line.strip())
    n_md = sum(1 for k, c in cs if k == "md" for line in c if line.strip() not in ("", "#"))
    longest_func = 0
    for node in ast.walk(ast.parse("\n".join("\n".join(c) for c in code))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and hasattr(node, "end_lineno"):
            longest_func = max(longest_func, node.end_lineno - node.lineno + 1)
    return {
        "code": n_code,
        "prose": n_md,
        "share": n_code / max(1, n_code + n_md),
        "cells": len(code),
        "max_cell": max((sum(1 for line in c if line.strip()) for c in code), default=0),
        "max_func": longest_func,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", default="notebooks")
    ap.add_argument("--max-code", type=float, default=0.35)
    ap.add_argument("--max-cell", type=int, default=30)
    ap.add_argument("--max-func", type=int, default=10)
    ap.add_argument("--exempt", default="9", help="name prefix of book pages exempt from the limits (rerun, scorecard)")
    a = ap.parse_args(argv)
    over = 0
    print(f"{'chapter':36s} {'code%':>6s} {'code':>5s} {'prose':>5s} {'cells':>5s} {'max cell':>8s} {'max func':>8s}")
    for p in sorted(Path(a.dir).glob("[0-9][0-9]_*.py")):
        s = shape(p)
        bad = not p.name.startswith(a.exempt) and (
            s["share"] > a.max_code or s["max_cell"] > a.max_cell or s["max_func"] > a.max_func
        )
        over += bad
        print(
            f"{p.name:36s} {s['share']:6.0%} {s['code']:5d} {s['prose']:5d} {s['cells']:5d} "
            f"{s['max_cell']:8d} {s['max_func']:8d}"
            f"{'  OVER the limits' if bad else ''}"
        )
    print(
        f"limits: code ≤ {a.max_code:.0%} of non-blank lines, cells ≤ {a.max_cell} lines, "
        f"functions ≤ {a.max_func} lines"
    )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
