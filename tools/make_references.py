#!/usr/bin/env python3
"""Write the nbval reference notebooks: smoke-profile executions of the chapters with only the
outputs nbval compares kept (cells tagged nbval-check-output), so that the committed files are
small and a reviewer sees exactly which numbers changed.

usage: make_references.py EXECUTED_DIR REFERENCE_DIR   (run by `make references`; EXECUTED_DIR may hold
only some chapters: the others' references are kept)
"""

import sys
from pathlib import Path

import nbformat

CHECK = "nbval-check-output"


def strip(nb):
    """Keep the outputs of checked cells only (and drop papermill's timings)."""
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # jupytext draws random ids: fixed ones keep the diff to what changed
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        if CHECK not in cell.metadata.get("tags", []):
            cell.outputs, cell.execution_count = [], None  # nbval wants a count on a cell with outputs
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("icl", None)  # the input hash of the run that made it: not part of the reference
    return nb


def main(src: str, dst: str) -> int:
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    sources = Path(__file__).resolve().parents[1] / "notebooks"
    for old in out.glob("*.ipynb"):  # references of chapters that no longer exist
        if not (sources / f"{old.stem}.py").exists():
            old.unlink()
    for path in sorted(Path(src).glob("[0-9][0-9]_*.ipynb")):
        nb = strip(nbformat.read(path, as_version=4))
        if not any(CHECK in c.metadata.get("tags", []) for c in nb.cells):
            print(f"{path.name}: no {CHECK} cell, skipped")
            continue
        nbformat.write(nb, out / path.name)
        print(f"{path.name} → {out / path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
