"""Incremental and parallel chapter execution (`icl chapters --jobs N`, `--force`)."""

import os

import nbformat
import pytest

from icl.pipeline.execute import ChapterFailures, execute_chapters

HEADER = """# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""
GOOD = (
    HEADER
    + """# %% tags=["parameters"]
profile = "smoke"
device = "auto"
d = None  # a task parameter (None: the paper's 5)
# %%
import os, pathlib
d = pathlib.Path(os.environ["ICL_CLAIMS_DIR"]); d.mkdir(parents=True, exist_ok=True)
(d / "01_good.json").write_text("{}")
print("ran", profile)
"""
)
BAD = (
    HEADER
    + """# %% tags=["parameters"]
profile = "smoke"
device = "auto"
# %%
raise RuntimeError("this chapter is broken")
"""
)


def _write(folder, name, text):
    (folder / name).write_text(text)


def test_failures_do_not_stop_the_others_and_unchanged_chapters_are_skipped(tmp_path, capsys):
    src, out = tmp_path / "nb", tmp_path / "out"
    src.mkdir()
    _write(src, "01_good.py", GOOD)
    _write(src, "02_bad.py", BAD)
    (out / "claims").mkdir(parents=True)
    _write(out / "claims", "06_renamed.json", "{}")  # a chapter that no longer exists
    with pytest.raises(ChapterFailures) as e:
        execute_chapters("smoke", "cpu", out, jobs=2, notebooks=src)
    assert list(e.value.failures) == ["02_bad"] and "broken" in str(e.value)
    meta = nbformat.read(out / "01_good.ipynb", as_version=4).metadata["icl"]
    assert meta["outputs"] == ["claims/01_good.json"] and len(meta["input_hash"]) == 64
    assert not (out / "claims" / "06_renamed.json").exists()
    capsys.readouterr()

    (path,) = execute_chapters("smoke", "cpu", out, only=["01_good"], notebooks=src)  # unchanged: skipped
    assert "unchanged" in capsys.readouterr().out and path == out / "01_good.ipynb"

    execute_chapters("smoke", "cpu", out, only=["01_good"], notebooks=src, force=True)  # --force
    assert "done in" in capsys.readouterr().out

    os.remove(out / "claims" / "01_good.json")  # a missing output re-executes
    execute_chapters("smoke", "cpu", out, only=["01_good"], notebooks=src)
    assert "done in" in capsys.readouterr().out

    _write(src, "01_good.py", GOOD.replace('"ran"', '"ran again"'))  # a changed source re-executes
    execute_chapters("smoke", "cpu", out, only=["01_good"], notebooks=src)
    assert "done in" in capsys.readouterr().out
    execute_chapters("smoke", "cpu", out, only=["01_good"], notebooks=src, parameters={"d": 3})  # new parameters
    assert "done in" in capsys.readouterr().out


def test_bad_jobs_names_the_parameter(tmp_path):
    with pytest.raises(ValueError, match="jobs"):
        execute_chapters("smoke", "cpu", tmp_path, jobs=0)


def test_touching_the_package_changes_every_chapters_hash(tmp_path, monkeypatch):
    import icl.pipeline.execute as pl

    (tmp_path / "icl").mkdir()
    (tmp_path / "icl" / "a.py").write_text("x = 1\n")
    src = tmp_path / "01_x.py"
    src.write_text("print(1)\n")
    monkeypatch.setattr(pl, "ROOT", tmp_path)
    before = pl.input_hash(src, {"profile": "smoke"}, tmp_path)
    assert pl.input_hash(src, {"profile": "smoke"}, tmp_path) == before  # deterministic
    (tmp_path / "icl" / "a.py").write_text("x = 2\n")
    assert pl.input_hash(src, {"profile": "smoke"}, tmp_path) != before


def test_budget_note_names_whose_budget_the_prose_describes():
    """The chapters' prose says "cost cap" only below the authors' 500k steps, and names the budget otherwise."""
    from icl.book.chapter import start

    quick, paper = start("01_setup", "quick", "cpu"), start("01_setup", "paper", "cpu")
    assert quick.budget_note().startswith("ours: the quick profile's cost cap") and "500,000" in quick.budget_note()
    assert paper.budget_note() == "the authors' budget"
    assert paper.budget_note(8_000).startswith("ours: this run's parameters")  # a reader's override at paper
    assert quick.budget_note(500_000) == "the authors' budget"
