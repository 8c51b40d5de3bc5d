"""The example on the rerun page: chapter 01 executed with other (d, L, σ²) by the book's runner."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..book.claims import ClaimsTable, load_tables
from ..core import theory
from ..core.data import TaskConfig

__all__ = ["CHAPTER", "EXAMPLE", "Rerun", "run", "glue"]

CHAPTER = "01_setup"  # the chapter the rerun page executes
EXAMPLE = {"d": 10, "L": 80, "sigma2": 0.5}  # its other science (the page's `rerun` parameter)


@dataclass
class Rerun:
    profile: str
    params: dict
    claims: ClaimsTable
    figure: object  # the rerun's circuit heatmaps (an IPython Image)


def run(profile: str, device: str, params: dict, chapter: str = CHAPTER, out: str | os.PathLike = "rerun") -> Rerun:
    """Execute `chapter` with `params` into `out` (its claims and figures beside it) and read it back."""
    from IPython.display import Image

    from .execute import execute_chapters

    execute_chapters(profile, device, out, only=[chapter], parameters=params)
    (claims,) = [t for t in load_tables(Path(out) / "claims") if t.chapter == chapter]
    return Rerun(profile, params, claims, Image(filename=str(Path(out) / "figures" / "setup-circuits.png")))


def glue(r: Rerun):
    from ..book.chapter import glue_text

    task, paper = TaskConfig(**r.params), TaskConfig()
    for k in ("d", "L", "sigma2"):
        glue_text(f"rerun-{k}", f"{getattr(task, k):g}")
    glue_text("rerun-profile", r.profile)
    glue_text("rerun-eta-eff", f"{theory.eta_eff(task.d, task.L, task.sigma2):.3f}")
    glue_text("rerun-eta-paper", f"{theory.eta_eff(paper.d, paper.L, paper.sigma2):.3f}")
