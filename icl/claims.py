"""How a chapter states the paper's claims and checks them with measured numbers.

A claim pairs the paper's statement with a measured value and a test: a target with a tolerance
(absolute or relative), or a bound. Its status is "pass", "fail" or "not evaluated" (the budget
is too small to judge, e.g. the smoke profile). A chapter collects its claims in a
`ClaimsTable`, shows it, and saves it as JSON so that the scorecard page and the tests read it.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Claim", "ClaimsTable", "load_all_claims", "load_tables", "claims_dir"]

KINDS = ("abs", "rel", "max", "min", "true")


@dataclass
class Claim:
    """statement: the paper's claim in words; ref: where (e.g. "Obs. 2", "Fig. 4");
    measured: our number (or bool for kind "true"); expected: the target or bound;
    kind: "abs" |m − e| ≤ tol, "rel" |m − e| ≤ tol·|e|, "max" m ≤ e, "min" m ≥ e,
    "true" m is True; note: why it fails, or what was chosen."""

    statement: str
    ref: str
    measured: float | bool | None
    expected: float | None = None
    tol: float = 0.0
    kind: str = "abs"
    evaluated: bool = True
    note: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind in ("abs", "rel", "max", "min") and self.expected is None:
            raise ValueError(f"claim {self.statement!r}: kind {self.kind!r} needs an expected value")
        if isinstance(self.measured, float) and not math.isfinite(self.measured):
            self.note = (self.note + " " if self.note else "") + "measured value is not finite"

    @property
    def status(self) -> str:
        if not self.evaluated or self.measured is None:
            return "not evaluated"
        m, e = self.measured, self.expected
        if self.kind == "true":
            ok = bool(m)
        elif not math.isfinite(float(m)):
            ok = False
        elif self.kind == "abs":
            ok = abs(m - e) <= self.tol
        elif self.kind == "rel":
            ok = abs(m - e) <= self.tol * abs(e)
        elif self.kind == "max":
            ok = m <= e
        else:
            ok = m >= e
        return "pass" if ok else "fail"

    @property
    def criterion(self) -> str:
        e = self.expected
        return {
            "abs": lambda: f"{_fmt(e)} ± {_fmt(self.tol)}",
            "rel": lambda: f"{_fmt(e)} ± {self.tol:.0%}",
            "max": lambda: f"≤ {_fmt(e)}",
            "min": lambda: f"≥ {_fmt(e)}",
            "true": lambda: "holds",
        }[self.kind]()

    def row(self) -> dict:
        m = self.measured
        shown = "—" if m is None else ("yes" if m is True else "no" if m is False else _fmt(m))
        return {"ref": self.ref, "claim": self.statement, "measured": shown, "criterion": self.criterion, "status": self.status}


def _fmt(x) -> str:
    if x is None:
        return "—"
    x = float(x)
    if x == 0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:.4g}"
    return f"{x:.3e}"


class ClaimsTable:
    """The claims of one chapter."""

    def __init__(self, chapter: str, evaluate: bool = True):
        self.chapter = chapter
        self.evaluate = evaluate
        self.claims: list[Claim] = []

    def add(self, statement: str, ref: str, measured, expected=None, tol: float = 0.0, kind: str = "abs", note: str = "") -> Claim:
        """Add a claim; in a table with evaluate=False it reads "not evaluated"."""
        if measured is not None and not isinstance(measured, bool):
            measured = float(measured)
        c = Claim(statement, ref, measured, None if expected is None else float(expected), float(tol), kind, self.evaluate, note)
        self.claims.append(c)
        return c

    def rows(self) -> list[dict]:
        return [c.row() for c in self.claims]

    def summary(self) -> str:
        s = [c.status for c in self.claims]
        return f"{self.chapter}: {s.count('pass')} pass, {s.count('fail')} fail, {s.count('not evaluated')} not evaluated"

    def to_markdown(self) -> str:
        head = "| ref | claim | measured | criterion | status |\n|---|---|---|---|---|\n"
        cell = lambda v: str(v).replace("|", "\\|")  # a literal | would split the cell
        body = "".join(
            f"| {cell(r['ref'])} | {cell(r['claim'])} | {r['measured']} | {r['criterion']} | {_badge(r['status'])} |\n"
            for r in self.rows()
        )
        notes = "".join(f"\n- *{c.ref}* — {c.note}" for c in self.claims if c.note)
        return head + body + (("\n**Notes.**" + notes) if notes else "")

    def show(self):
        """Display the table in a notebook (Markdown) and return nothing."""
        from IPython.display import Markdown, display

        display(Markdown(self.to_markdown()))

    def save(self, directory: str | os.PathLike | None = None) -> Path:
        """Write claims JSON to `directory` (default `claims_dir()`), atomically."""
        out = Path(directory) if directory is not None else claims_dir()
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{self.chapter}.json"
        tmp = path.with_suffix(".json.tmp")
        payload = {"chapter": self.chapter, "claims": [dict(asdict(c), status=c.status) for c in self.claims]}
        tmp.write_text(json.dumps(payload, indent=1))
        os.replace(tmp, path)
        return path


def _badge(status: str) -> str:
    return {"pass": "✅ pass", "fail": "❌ fail"}.get(status, "⏸ not evaluated")


def claims_dir() -> Path:
    """Where chapters write their claims: $ICL_CLAIMS_DIR, else ./claims beside the notebook."""
    return Path(os.environ.get("ICL_CLAIMS_DIR", "claims"))


def load_all_claims(directory: str | os.PathLike | None = None) -> list[dict]:
    """Every saved claim, with its chapter, in chapter order."""
    d = Path(directory) if directory is not None else claims_dir()
    rows = []
    for f in sorted(d.glob("*.json")):
        data = json.loads(f.read_text())
        for c in data["claims"]:
            rows.append(dict(c, chapter=data["chapter"]))
    return rows


def load_tables(directory: str | os.PathLike | None = None) -> list[ClaimsTable]:
    """Every saved chapter's claims as a `ClaimsTable`, in chapter order."""
    d = Path(directory) if directory is not None else claims_dir()
    fields = Claim.__dataclass_fields__
    tables = []
    for f in sorted(d.glob("*.json")):
        data = json.loads(f.read_text())
        t = ClaimsTable(data["chapter"])
        t.claims = [Claim(**{k: v for k, v in c.items() if k in fields}) for c in data["claims"]]
        tables.append(t)
    return tables
