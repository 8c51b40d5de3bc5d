"""Execute the chapter sources (jupytext py:percent) with papermill into executed notebooks.

papermill cannot read .py files, so each source is read with jupytext, its jupytext metadata
dropped, and the notebook object handed to papermill with the parameters (profile, device, and
those given with `-p`, checked first against each chapter's parameters cell: `icl.book.parameters`).

Incremental: an executed notebook records the hash of its inputs (`input_hash`: the source, every
file of the `icl` package — which fixes the models' configurations and so their cache keys —, the
parameters and the torch version; for the book pages `9x_*`, which read the chapters, also every
chapter source, the other chapters' claims and the published editions' claims) and the files it wrote. A
chapter whose hash is unchanged and whose outputs all exist is skipped, saying so; `force=True` re-executes it.

Parallel: with jobs > 1 the chapters run in that many worker processes, then the book pages; each
kernel gets at most cpu_count // jobs threads (OMP_NUM_THREADS, unless already set). A
chapter that raises does not stop the others; the run ends with `ChapterFailures` naming each one
(papermill's error for the first), because a failed notebook would otherwise still render.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

__all__ = [
    "chapter_sources",
    "execute_chapter",
    "execute_chapters",
    "parse_parameters",
    "input_hash",
    "ChapterFailures",
]

ROOT = Path(__file__).resolve().parents[2]


def chapter_sources(notebooks: Path | None = None, only: list[str] | None = None) -> list[Path]:
    """The chapter sources in book order (by file name), optionally filtered by name prefix."""
    src = sorted((notebooks or ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    if only:
        src = [p for p in src if any(p.stem.startswith(o) or p.stem == o for o in only)]
        if not src:
            raise ValueError(f"no chapter matches {only!r}")
    return src


class ChapterFailures(RuntimeError):
    """Chapters that raised: `failures` maps each chapter's name to its error."""

    def __init__(self, failures: dict):
        self.failures = failures
        names = ", ".join(failures)
        super().__init__(f"{len(failures)} chapter(s) failed: {names}\n{next(iter(failures.values()))}")


def _is_page(source: Path) -> bool:
    """The book pages 9x_* (rerun, scorecard) read the chapters: they run last and hash the chapters too."""
    return source.stem.startswith("9")


def input_hash(source: Path, parameters: dict, out_dir: Path) -> str:
    """sha256 of what a chapter's execution depends on (see the module docstring)."""
    from importlib.metadata import version

    h = hashlib.sha256()
    files = [source, *sorted((ROOT / "icl").rglob("*.py"))]
    if _is_page(source):
        files += [p for p in chapter_sources() if p != source]
        files += [p for p in sorted((out_dir / "claims").glob("*.json")) if not _is_page(p)]
        from ..runs.publish import results_dir

        files += sorted(results_dir().glob("*/claims/*.json"))  # the published editions (scorecard)
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(json.dumps(parameters, sort_keys=True, default=repr).encode())
    h.update(version("torch").encode())
    return h.hexdigest()


def _outputs_since(out_dir: Path, t0: float) -> list[str]:
    """Claims and figures written since t0, relative to out_dir."""
    return sorted(
        str(p.relative_to(out_dir))
        for d in ("claims", "figures")
        for p in (out_dir / d).glob("*")
        if p.is_file() and p.stat().st_mtime >= t0
    )


def up_to_date(source: Path, out_dir: Path, digest: str) -> bool:
    """The executed copy records `digest` and every file it wrote still exists."""
    import nbformat

    path = out_dir / f"{source.stem}.ipynb"
    if not path.exists():
        return False
    try:
        meta = nbformat.read(path, as_version=4).metadata.get("icl", {})
    except Exception:  # an unreadable copy is re-executed
        return False
    return meta.get("input_hash") == digest and all((out_dir / f).exists() for f in meta.get("outputs", []))


def execute_chapter(source: Path, out_dir: Path, parameters: dict, digest: str | None = None) -> Path:
    """Run one chapter with papermill; returns the executed notebook's path. `digest` (its `input_hash`) and
    the files it wrote are recorded in the notebook's metadata."""
    import jupytext
    import papermill as pm

    nb = jupytext.read(source)
    nb.metadata.pop("jupytext", None)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{source.stem}.ipynb"
    t0 = time.time() - 1  # file times have a coarse grain on some file systems
    pm.execute_notebook(
        nb, str(out), parameters=parameters, cwd=str(out_dir), kernel_name="python3", progress_bar=False
    )
    _hide_injected_parameters(out, {"input_hash": digest, "outputs": _outputs_since(out_dir, t0)} if digest else None)
    return out


def _hide_injected_parameters(path: Path, icl_meta: dict | None = None):
    """Tag papermill's injected-parameters cell remove-cell, like the chapter's own parameters
    cell: the page states its profile and device in words. icl_meta: recorded as metadata.icl."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    if icl_meta is not None:
        nb.metadata["icl"] = icl_meta
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


def _prune(out: Path, stems: set):
    """Remove executed notebooks and claims of chapters that no longer exist (renamed or deleted), so that
    the book and the scorecard never show a stale one."""
    for p in [*out.glob("[0-9][0-9]_*.ipynb"), *(out / "claims").glob("[0-9][0-9]_*.json")]:
        if p.stem not in stems:
            print(f"[chapters] removing {p.relative_to(out)}: no such chapter any more", flush=True)
            p.unlink()


def _run_one(src: Path, out: Path, params: dict, force: bool) -> tuple[str, Path]:
    """Execute one chapter unless it is up to date: ("ran" | "skipped", executed path)."""
    digest = input_hash(src, params, out)
    if not force and up_to_date(src, out, digest):
        print(
            f"[chapters] {src.name} unchanged (inputs hash {digest[:12]}), skipped; --force re-executes it", flush=True
        )
        return "skipped", out / f"{src.stem}.ipynb"
    t0 = time.perf_counter()
    print(f"[chapters] {src.name} (profile={params['profile']}, device={params['device']}) …", flush=True)
    path = execute_chapter(src, out, params, digest)
    print(f"[chapters] {src.name} done in {time.perf_counter() - t0:.1f} s", flush=True)
    return "ran", path


def _run_all(sources: list[Path], out: Path, params: dict, force: bool, jobs: int) -> tuple[list[Path], dict]:
    """Execute `sources`, each with its parameters `params[source]`."""
    done, failures = [], {}
    if jobs <= 1:
        for src in sources:
            try:
                done.append(_run_one(src, out, params[src], force)[1])
            except Exception as e:  # the others still run; the caller raises ChapterFailures
                print(f"[chapters] {src.name} FAILED", flush=True)
                failures[src.stem] = e
        return done, failures
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:  # workers inherit ICL_CLAIMS_DIR/ICL_FIGURES_DIR
        futures = {src: pool.submit(_run_one, src, out, params[src], force) for src in sources}
        for src, f in futures.items():
            try:
                done.append(f.result()[1])
            except Exception as e:
                print(f"[chapters] {src.name} FAILED", flush=True)
                failures[src.stem] = e
    return done, failures


def execute_chapters(
    profile: str = "quick",
    device: str = "auto",
    out_dir: str | os.PathLike = "executed",
    only=None,
    parameters: dict | None = None,
    force: bool = False,
    jobs: int = 1,
    notebooks: str | os.PathLike | None = None,
) -> list[Path]:
    """Execute every chapter (or those named in `only`) in book order, skipping those whose inputs are
    unchanged (unless `force`), `jobs` at a time, then the book pages (9x_*). parameters: extra papermill
    parameters (e.g. d, L, sigma2), checked against the chapters' parameters cells before anything is
    executed (`icl.book.parameters.check_parameters`: every chapter executed must take each, with a valid
    value; a book page is passed those it declares); notebooks: another source folder (tests).
    Raises ParameterError (a ValueError) for a bad parameter, ChapterFailures if any chapter raised."""
    from ..book.parameters import check_parameters
    from ..runs.profiles import get_profile

    get_profile(profile)  # fail early on a bad name
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    out = Path(out_dir).resolve()
    sources = chapter_sources(Path(notebooks) if notebooks else None, only=only)
    params = {
        src: {"profile": profile, "device": device, **p}
        for src, p in check_parameters(sources, parameters, profile, is_page=_is_page).items()
    }
    if not only:
        _prune(out, {s.stem for s in sources})
    # The kernels inherit these: claims and figures go beside the executed notebooks. They are
    # restored afterwards, so a caller (e.g. a page that runs a chapter) keeps its own.
    threads = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {k: os.environ.get(k) for k in ("ICL_CLAIMS_DIR", "ICL_FIGURES_DIR", *threads)}
    os.environ["ICL_CLAIMS_DIR"], os.environ["ICL_FIGURES_DIR"] = str(out / "claims"), str(out / "figures")
    if jobs > 1:  # kernels running side by side share the cores: no more threads each than their share
        for k in threads:
            os.environ.setdefault(k, str(max(1, (os.cpu_count() or 1) // jobs)))
    try:
        done, failures = _run_all([s for s in sources if not _is_page(s)], out, params, force, jobs)
        more, fail_pages = _run_all([s for s in sources if _is_page(s)], out, params, force, 1)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    failures.update(fail_pages)
    if failures:
        raise ChapterFailures(failures)
    return done + more


if __name__ == "__main__":  # pragma: no cover
    execute_chapters(*sys.argv[1:])
