"""Checks on the executed chapters (run by `make test` with --executed DIR)."""

import json
from pathlib import Path

from icl.pipeline.execute import chapter_sources


def test_every_chapter_was_executed_without_errors(executed_dir):
    folder = Path(executed_dir)
    for src in chapter_sources():
        nb_path = folder / f"{src.stem}.ipynb"
        assert nb_path.exists(), f"{src.name} was not executed"
        nb = json.loads(nb_path.read_text())
        assert not nb["metadata"].get("papermill", {}).get("exception"), f"{nb_path.name} raised"
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                assert out.get("output_type") != "error", f"{nb_path.name}: {out.get('ename')}: {out.get('evalue')}"


def test_every_chapter_saved_its_claims(executed_dir):
    claims = Path(executed_dir) / "claims"
    for src in chapter_sources():
        if src.stem.startswith("9"):  # book pages (rerun, scorecard), not chapters
            continue
        f = claims / f"{src.stem}.json"
        assert f.exists(), f"{src.stem} saved no claims"
        data = json.loads(f.read_text())
        assert data["claims"], f"{src.stem} has an empty claims table"
        for c in data["claims"]:
            assert c["status"] in {"pass", "fail", "not evaluated"}


def test_every_figure_follows_the_visual_language(executed_dir):
    """Issue 30: each saved figure's audit (icl.book.figure_audit, written beside its PNG) finds no
    departure: width, text size in the book's column, legend length, mathtext, colour bars."""
    from icl.book.figure_audit import problems

    pngs = sorted((Path(executed_dir) / "figures").glob("*.png"))
    assert pngs, "no figure saved"
    found = {}
    for png in pngs:
        meta = png.with_name(png.stem + ".audit.json")
        assert meta.exists(), f"{png.name} was saved without its audit"
        if p := problems(json.loads(meta.read_text())):
            found[png.stem] = p
    assert not found, "\n".join(f"{k}: {'; '.join(v)}" for k, v in found.items())
