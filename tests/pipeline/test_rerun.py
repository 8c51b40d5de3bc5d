"""A chapter reruns with other science: non-default d, L and σ² at the smoke budget, through the
same runner as the book, and every glued number and the saved claims follow the parameters."""

import ast
import json
import os

import nbformat

from icl.pipeline.execute import chapter_sources, execute_chapters, parse_parameters


def glued(nb, key):
    """The text a page shows for {glue:text}`key` (myst-nb reads the stored repr back with literal_eval)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("metadata", {}).get("scrapbook", {}).get("name") == key:
                return ast.literal_eval(out["data"]["application/papermill.record/text/plain"])
    raise KeyError(key)


def test_chapter_01_reruns_with_other_d_L_sigma2(tmp_path, monkeypatch):
    monkeypatch.setenv("ICL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ICL_CLAIMS_DIR", "unused")  # the runner points the kernels elsewhere, then restores these
    monkeypatch.setenv("ICL_FIGURES_DIR", "unused")
    params = parse_parameters(["d=3", "L=20", "sigma2=0.5"])
    (path,) = execute_chapters("smoke", "cpu", tmp_path / "out", only=["01_setup"], parameters=params)
    assert (os.environ["ICL_CLAIMS_DIR"], os.environ["ICL_FIGURES_DIR"]) == ("unused", "unused")
    nb = nbformat.read(path, as_version=4)
    assert (glued(nb, "setup-d"), glued(nb, "setup-L"), glued(nb, "setup-sigma2")) == ("3", "20", "0.5")
    assert glued(nb, "setup-eta-eff") == f"{20 / (20 + 3 * 1.5):.3f}"  # η_eff = L/(L + d(1+σ²)) follows
    meta = json.loads((tmp_path / "out" / "claims" / "01_setup.json").read_text())["meta"]
    assert (meta["d"], meta["L"], meta["sigma2"], meta["profile"]) == (3, 20, 0.5, "smoke")


def test_parameters_are_read_as_literals_and_bad_ones_named():
    assert parse_parameters(["heads=[1, 2]", "sigma2=0.5", "name=abc"]) == {
        "heads": [1, 2],
        "sigma2": 0.5,
        "name": "abc",
    }
    import pytest

    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_parameters(["d"])
    assert [p.stem for p in chapter_sources(only=["01"])] == ["01_setup"]
