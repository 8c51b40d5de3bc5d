"""The regression tests regress: a deliberately broken formula makes a claim fail and a checked
nbval cell differ from its committed reference.

The chapter on the approximate loss (03) is executed in the smoke profile, through papermill like
the book, with one extra cell right after its parameters that breaks c = (1 + σ²)/L of (4.1) by a
factor 1.5 (as a typo in `theory.c` would). Its claims that need no training are evaluated at the
smoke budget with Monte Carlo tolerances, so at least one must fail; and the printed claims differ
from tests/reference/03_loss_approximation.ipynb, so nbval would fail too.
"""

import json

import jupytext
import nbformat
import papermill as pm
import pytest

from icl.pipeline.execute import ROOT

CHAPTER = "03_loss_approximation"
BREAK = (
    "import icl.core.theory as _t\n_good_c = _t.c\n"
    "_t.c = lambda L, sigma2: 1.5 * _good_c(L, sigma2)  # deliberately wrong"
)
CHECK = "nbval-check-output"


def checked_outputs(nb) -> list[str]:
    return [
        "".join(o.get("text", "") for o in c.outputs)
        for c in nb.cells
        if c.cell_type == "code" and CHECK in c.metadata.get("tags", [])
    ]


def execute(tmp_path, extra_cell: str | None):
    nb = jupytext.read(ROOT / "notebooks" / f"{CHAPTER}.py")
    nb.metadata.pop("jupytext", None)
    if extra_cell:
        i = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        nb.cells.insert(i + 1, nbformat.v4.new_code_cell(extra_cell))
    out = tmp_path / f"{CHAPTER}.ipynb"
    pm.execute_notebook(
        nb,
        str(out),
        parameters={"profile": "smoke", "device": "cpu"},
        cwd=str(tmp_path),
        kernel_name="python3",
        progress_bar=False,
    )
    claims = json.loads((tmp_path / "claims" / f"{CHAPTER}.json").read_text())["claims"]
    return nbformat.read(out, as_version=4), claims


def test_a_broken_formula_fails_a_claim_and_an_nbval_cell(tmp_path, monkeypatch):
    reference = ROOT / "tests" / "reference" / f"{CHAPTER}.ipynb"
    if not reference.exists():
        pytest.fail(f"{reference} is missing: run `make references`")
    monkeypatch.setenv("ICL_CLAIMS_DIR", str(tmp_path / "claims"))
    monkeypatch.setenv("ICL_FIGURES_DIR", str(tmp_path / "figures"))
    broken_nb, broken_claims = execute(tmp_path, BREAK)
    failed = [c["id"] for c in broken_claims if c["status"] == "fail"]
    assert failed, "no claim failed with a wrong c = (1 + σ²)/L"
    expected = checked_outputs(nbformat.read(reference, as_version=4))
    assert expected and checked_outputs(broken_nb) != expected, "the checked cells did not notice the broken formula"
    print(f"with c × 1.5 these claims fail at the smoke budget: {failed}")
