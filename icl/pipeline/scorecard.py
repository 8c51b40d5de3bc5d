"""The scorecard page's numbers: book-wide claim counts, the editions side by side, and how the
paper edition was trained; each glued under the keys the page's prose uses."""

from __future__ import annotations

import json
from pathlib import Path

from ..book.chapter import glue_text
from ..book.claims import budgets_side_by_side, scorecard_counts

__all__ = [
    "glue_counts",
    "glue_editions",
    "glue_paper_training",
    "not_run_clause",
    "paper_training_by_chapter",
    "training_by_chapter",
]


def glue_counts(tables):
    """Counts over this build's tables (keys score-profile, score-n-pass, …); returns the per-chapter frame."""
    counts = scorecard_counts(tables)
    for key, value in counts.items():
        glue_text(f"score-{key}", value)
    return counts.frame


def glue_editions(tables):
    """Each edition's counts (keys score-<profile>-n-pass, -n-fail, -n-not-evaluated, -n-not-run,
    -n-total) and its not-run clause (score-<profile>-not-run); returns `budgets_side_by_side`'s frame."""
    frame, counts = budgets_side_by_side(tables)
    for prof, n in counts.items():
        for k, v in n.items():
            glue_text(f"score-{prof}-n-{k.replace(' ', '-')}", v)
        glue_text(f"score-{prof}-n-total", sum(v for k, v in n.items() if k != "not run"))
        glue_text(f"score-{prof}-not-run", not_run_clause(n["not run"]))
    return frame


def not_run_clause(n: int) -> str:
    """How many of the book's claims an edition has not run yet, as a clause of the prose."""
    return "every claim has been run at this budget" if n == 0 else f"{n} have not been run at this budget yet"


def glue_paper_training(profile: str = "paper"):
    """The published models' training (keys score-paper-models, -hours, -rate); returns the table
    to display (a Styler), or a sentence when nothing is published."""
    from IPython.display import Markdown

    from ..runs.publish import training_summary

    t = training_summary(profile)
    glue_text("score-paper-models", int(t["seeds"].str.split(",").str.len().sum()) if len(t) else 0)
    glue_text("score-paper-hours", f"{t['wall (min)'].sum() / 60:.1f}" if len(t) else "0")
    glue_text("score-paper-rate", f"{t['model-steps/s'].median():.0f}" if len(t) else "—")
    if not len(t):
        return Markdown(f"*No {profile}-profile model is published yet.*")
    return t.style.format({"wall (min)": "{:.1f}", "model-steps/s": "{:.0f}", "model-steps": "{:,}"}).hide(axis="index")


def paper_training_by_chapter(profile: str = "paper"):
    """`training_by_chapter` as a table to display."""
    t = training_by_chapter(profile)
    return t.style.format(
        {"training wall (h)": "{:.1f}", "models read": "{:.0f}", "published": "{:.0f}"}, na_rep=""
    ).hide(axis="index")


def training_by_chapter(profile: str = "paper", root: Path | None = None):
    """Per chapter in book order: the models it reads (published of needed) and the training wall time
    of the groups first needed by it (a group read by several chapters counts for the first, so the
    column adds up to the edition's total). Returns a pandas DataFrame with a total row."""
    import pandas as pd

    from ..runs.publish import results_dir
    from .plan import plan

    d = (results_dir() if root is None else Path(root)) / profile / "models"
    rows = {}
    for g in plan(profile, cache_dir=d / ".no-cache"):
        metas = [d / c.key() / "meta.json" for c in g.configs]
        done = [json.loads(m.read_text())["provenance"] for m in metas if m.is_file()]
        # the models of a group share one provenance (one training run): count its wall time once
        wall = sum(w for _, w in {(p.get("finished"), p.get("wall_seconds_total", p["wall_seconds"])) for p in done})
        for i, ch in enumerate(g.chapters):
            r = rows.setdefault(
                ch,
                {"chapter": ch, "models read": 0, "published": 0, "models trained for it": 0, "training wall (h)": 0.0},
            )
            r["models read"] += len(g.configs)
            r["published"] += len(done)
            if i == 0:  # plan() lists each group (or each part of a large one) once
                r["models trained for it"] += len(done)
                r["training wall (h)"] += wall / 3600
    frame = pd.DataFrame([rows[k] for k in sorted(rows)])
    if len(frame):
        total = {
            "chapter": "total",
            "models read": None,
            "published": None,
            "models trained for it": int(frame["models trained for it"].sum()),
            "training wall (h)": float(frame["training wall (h)"].sum()),
        }
        frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    return frame
