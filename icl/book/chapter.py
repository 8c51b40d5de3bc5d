"""The one preamble of every chapter: `ch = start("NN_name", profile, device, d=…, L=…, …)`.

It gives the chapter its profile, device, task (d, L, σ² and the other `TaskConfig` fields; None
means the paper's default), the derived constants c and η_eff, the chapter's budget and
tolerances (`icl.book.budgets`), and its claims table. It also owns the two ways a chapter hands
computed things to its prose:

- `ch.glue(key, value, fmt)`: a number formatted by the code that computes it, pasted into a
  sentence with ``{glue:text}`key` `` (so the text is right under every profile);
- `ch.figure(key, fig)`: a figure pasted with a captioned ```` ```{glue:figure} key ```` block
  (``:name: key`` makes ``{numref}`key` `` work); it is also saved as
  `figures/<key>.png` beside the executed notebook for the landing page.

Glue keys are global to the book: prefix them with the chapter's short tag.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..core import theory
from ..core.data import TaskConfig
from ..runs.profiles import Profile, get_profile
from .budgets import budget as _budget
from .budgets import tolerances as _tolerances
from .claims import ClaimsTable
from .figure_audit import audit

__all__ = ["Chapter", "start", "figures_dir", "glue_text", "glue_figure"]

_TASK_FIELDS = {f.name for f in dataclasses.fields(TaskConfig)}


def figures_dir() -> Path:
    """Where chapters save their figures: $ICL_FIGURES_DIR, else ./figures beside the notebook."""
    return Path(os.environ.get("ICL_FIGURES_DIR", "figures"))


@dataclass
class Chapter:
    """What a chapter works with. name: e.g. "02_observations"; prof: the compute profile;
    device: torch device string; task: the prompt distribution; budget, tol: the chapter's
    budget and tolerances; claims: its claims table; glued: every value glued so far."""

    name: str
    prof: Profile
    device: str
    task: TaskConfig
    budget: object
    tol: object
    claims: ClaimsTable
    glued: dict = field(default_factory=dict)

    d = property(lambda self: self.task.d)
    L = property(lambda self: self.task.L)
    sigma2 = property(lambda self: self.task.sigma2)

    @property
    def c(self) -> float:
        """c = (1 + σ²)/L (4.1)."""
        return theory.c(self.L, self.sigma2)

    @property
    def eta_eff(self) -> float:
        """η_eff = L/(L + d(1 + σ²)) (4.3): the step of the debiased GD the multi-head model learns."""
        return theory.eta_eff(self.d, self.L, self.sigma2)

    def glue(self, key: str, value, fmt: str = "{:.3f}") -> str:
        """Format `value` with `fmt` (a str.format pattern) and glue the text under `key`."""
        text = fmt.format(value)
        self.glued[key] = text
        _glue(key, text)
        return text

    def glue_numbers(self, numbers: dict) -> None:
        """Glue a chapter's `numbers(st)`: key → (value, fmt), or key → str glued as it is."""
        for key, value in numbers.items():
            if isinstance(value, str):
                self.glue(key, value, "{}")
            else:
                self.glue(key, *value)

    def figure(self, key: str, fig=None):
        """Glue `fig` (default: the current figure) under `key` (`glue_figure`)."""
        glue_figure(key, fig)

    def budget_markdown(self) -> str:
        """One sentence saying what this run was: profile, device, task and the budget's fields."""
        task = ", ".join(f"{k} = {getattr(self.task, k)}" for k in ("d", "L", "sigma2"))
        fields = "; ".join(f"`{f.name}` = {getattr(self.budget, f.name)!r}" for f in dataclasses.fields(self.budget))
        from ..runs.profiles import PROFILES

        paper = PROFILES["paper"]
        edition = (
            "the authors' budget"
            if self.prof.steps == paper.steps
            else f"the paper edition trains the authors' {paper.steps:,}"
        )
        return (
            f"This page was executed with profile **{self.prof.name}** ({self.prof.steps:,} Adam steps per model "
            f"unless the budget below says otherwise, batch {self.prof.batch}; {edition}) on **{self.device}**, "
            f"task {task}. Budget: {fields}."
        )

    def budget_note(self, steps: int | None = None) -> str:
        """A phrase for the prose: whose budget `steps` (default: the profile's) is, e.g. "the authors' budget"."""
        from ..runs.profiles import PROFILES

        paper = PROFILES["paper"]
        if (steps or self.prof.steps) >= paper.steps:
            return "the authors' budget"
        if self.prof.steps >= paper.steps:  # a reader's override at the paper profile
            return f"ours: this run's parameters; the authors train {paper.steps:,} steps"
        return (
            f"ours: the {self.prof.name} profile's cost cap; "
            f"the paper edition trains the authors' {paper.steps:,} steps"
        )

    def show_budget(self):
        from IPython.display import Markdown, display

        display(Markdown(self.budget_markdown()))

    def finish(self):
        """Show the claims table, save it (for the scorecard and the tests), glue its counts."""
        self.claims.show()
        self.claims.save()
        for k, n in self.claims.counts().items():
            _glue(f"{self.name}-n-{k.replace(' ', '-')}", str(n))


def glue_figure(key: str, fig=None):
    """Glue `fig` (default: the current figure) under `key`, save it as figures/<key>.png, close it.

    The figure is rendered once, at savefig.dpi: the same PNG is saved and glued, displayed at
    the size the figure's own dpi gives it (so high-dpi screens get the extra pixels)."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    fig = fig if fig is not None else plt.gcf()
    out = figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    png = buf.getvalue()
    (out / f"{key}.png").write_bytes(png)
    (out / f"{key}.audit.json").write_text(json.dumps(audit(fig, png), indent=1))
    dpi = mpl.rcParams["savefig.dpi"]
    dpi = fig.dpi if dpi == "figure" else float(dpi)
    width = int.from_bytes(png[16:20], "big")  # the PNG header's width, in pixels
    _glue(key, _png_display(png, round(width * fig.dpi / dpi)))
    plt.close(fig)


def glue_text(key: str, text: str):
    """Glue `text` under `key` for ``{glue:text}`key` `` (outside a chapter's `Chapter`, e.g. the scorecard)."""
    _glue(key, str(text))


def _png_display(png: bytes, width: int):
    from IPython.display import Image

    return Image(data=png, format="png", width=width)


def _glue(key, value):
    try:
        from myst_nb import glue
    except ImportError:  # pragma: no cover - the book extra is not installed
        return
    # A str is glued as itself: myst-nb's {glue:text} reads the text/plain repr back with
    # literal_eval, which restores the exact string ("2,000" stays "2,000", "0.2990" keeps its 0).
    glue(key, value, display=False)


def start(
    name: str, profile: str = "quick", device: str = "auto", *, task_defaults: dict | None = None, **params
) -> Chapter:
    """The preamble. params: TaskConfig fields (d, L, sigma2, covariance, …) and the chapter's
    budget fields (heads, seeds, …); None keeps the default (the paper's value, the profile's
    budget). task_defaults: a chapter's own task where it is not the book's (e.g. §5.4's d = 6),
    overridden by non-None params; only params count as the reader's choices in the claims' meta.
    Raises ValueError naming a parameter that is neither, or one whose value has the wrong kind
    (`icl.book.parameters.check_values`: e.g. heads=0 where the chapter takes a list of head counts)."""
    from ..core.engine import resolve_device
    from .parameters import check_values
    from .style import use_style

    prof = get_profile(profile)
    check_values(name, profile, params)
    task_kw = {**(task_defaults or {}), **{k: v for k, v in params.items() if k in _TASK_FIELDS and v is not None}}
    budget_kw = {k: v for k, v in params.items() if k not in _TASK_FIELDS}
    task = TaskConfig(**task_kw)
    b = _budget(name, profile, **budget_kw)
    dev = str(resolve_device(device))
    meta = {
        "profile": prof.name,
        "device": dev,
        **{k: getattr(task, k) for k in ("d", "L", "sigma2")},
        "params": {k: v for k, v in params.items() if v is not None},
    }
    claims = ClaimsTable(name, evaluate=prof.evaluate_claims, meta=meta)
    use_style()
    return Chapter(name, prof, dev, task, b, _tolerances(name), claims)
