"""Execute the chapter sources (jupytext py:percent) with papermill into executed notebooks.

papermill cannot read .py files, so each source is read with jupytext, its jupytext metadata
dropped, and the notebook object handed to papermill with the parameters (profile, device).
A chapter that raises stops the run with a non-zero exit (papermill's error is re-raised),
because a failed notebook would otherwise still render.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

__all__ = ["chapter_sources", "execute_chapter", "execute_chapters", "parse_parameters"]

ROOT = Path(__file__).resolve().parents[1]


def chapter_sources(notebooks: Path | None = None, only: list[str] | None = None) -> list[Path]:
    """The chapter sources in book order (by file name), optionally filtered by name prefix."""
    src = sorted((notebooks or ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    if only:
        src = [p for p in src if any(p.stem.startswith(o) or p.stem == o for o in only)]
        if not src:
            raise ValueError(f"no chapter matches {only!r}")
    return src


def execute_chapter(source: Path, out_dir: Path, parameters: dict) -> Path:
    """Run one chapter with papermill; returns the executed notebook's path."""
    import jupytext
    import papermill as pm

    nb = jupytext.read(source)
    nb.metadata.pop("jupytext", None)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{source.stem}.ipynb"
    pm.execute_notebook(nb, str(out), parameters=parameters, cwd=str(out_dir), kernel_name="python3", progress_bar=False)
    _hide_injected_parameters(out)
    return out


def _hide_injected_parameters(path: Path):
    """Tag papermill's injected-parameters cell remove-cell, like the chapter's own parameters
    cell: the page states its profile and device in words."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, path)


def parse_parameters(items) -> dict:
    """["d=3", "sigma2=0.5", "heads=[1,2]"] → {"d": 3, "sigma2": 0.5, "heads": [1, 2]} (values read as
    Python literals, else kept as strings)."""
    import ast

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"a chapter parameter must read NAME=VALUE, got {item!r}")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def execute_chapters(profile: str = "quick", device: str = "auto", out_dir: str | os.PathLike = "executed", only=None,
                     parameters: dict | None = None) -> list[Path]:
    """Execute every chapter (or those named in `only`) in order; stop at the first failure.
    parameters: extra papermill parameters (e.g. d, L, sigma2) for every chapter executed."""
    from .profiles import get_profile

    get_profile(profile)  # fail early on a bad name
    out = Path(out_dir).resolve()
    # The kernels inherit these: claims and figures go beside the executed notebooks. They are
    # restored afterwards, so a caller (e.g. a page that runs a chapter) keeps its own.
    saved = {k: os.environ.get(k) for k in ("ICL_CLAIMS_DIR", "ICL_FIGURES_DIR")}
    os.environ["ICL_CLAIMS_DIR"], os.environ["ICL_FIGURES_DIR"] = str(out / "claims"), str(out / "figures")
    done = []
    try:
        for src in chapter_sources(only=only):
            t0 = time.perf_counter()
            print(f"[chapters] {src.name} (profile={profile}, device={device}) …", flush=True)
            execute_chapter(src, out, {"profile": profile, "device": device, **(parameters or {})})
            print(f"[chapters] {src.name} done in {time.perf_counter() - t0:.1f} s", flush=True)
            done.append(out / f"{src.stem}.ipynb")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return done


if __name__ == "__main__":  # pragma: no cover
    execute_chapters(*sys.argv[1:])
