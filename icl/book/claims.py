"""How a chapter states the paper's claims and checks them with measured numbers.

A claim pairs the paper's statement with a measured value and a test: a target with a tolerance
(absolute or relative), or a bound. Its status is "pass", "fail" or "not evaluated" (the budget
is too small to judge, e.g. the smoke profile). Every claim has an identifier, unique in its
chapter, by which tests and other pages refer to it; the statement is for display only.

Where a target comes from (`target_origin`: the paper's section/equation/figure, or "ours:
<how it is computed>") and where the tolerance comes from (`tol_origin`: a multiple of a Monte
Carlo standard error, or the precision the paper's wording implies) are part of the claim. The
table shows the *margin*: how far inside (+) or outside (−) the accepted region the measured value
lies, in the measured value's units, so that near-misses are visible.

A chapter collects its claims in a `ClaimsTable`, shows it, and saves it as JSON so that the
scorecard page and the tests read it.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "Claim",
    "ClaimsTable",
    "load_all_claims",
    "load_tables",
    "claims_dir",
    "scorecard_counts",
    "STATUS_LABEL",
    "published_claims_dir",
    "publish_claims",
    "FINDINGS",
    "budgets_side_by_side",
    "edition_table_markdown",
    "EDITIONS",
]

EDITIONS = ("quick", "paper")  # the budgets the book is published at, side by side on the scorecard

KINDS = ("abs", "rel", "max", "min", "true")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
STATUS_LABEL = {"pass": "**pass**", "fail": "**FAIL**", "not evaluated": "*not evaluated*", "not run": "*not run*"}


def status_label(status: str, finding: str | None = None) -> str:
    """The status as the tables show it, with the finding of a failing claim: **FAIL** (budget)."""
    return STATUS_LABEL[status] + (f" ({finding})" if finding else "")


# Why a claim fails (the `finding` of a failing claim; a passing one has none):
FINDINGS = {
    "paper": "the paper's statement does not hold in our runs",
    "reading": "fails only under a reading stricter or looser than the paper's words",
    "budget": "fails at our budget, with evidence it holds at a larger one",
    "setup": "a choice of ours that the paper does not make",
}


@dataclass
class Claim:
    """id: identifier (snake_case, unique in its chapter); statement: the paper's claim in words;
    ref: where in the paper (e.g. "Obs. 2", "Fig. 4"); measured: our number (a real bool for kind
    "true"); expected: the target or bound; kind: "abs" |m − e| ≤ tol, "rel" |m − e| ≤ tol·|e|,
    "max" m ≤ e, "min" m ≥ e, "true" m is True; target_origin, tol_origin: where the target and
    the tolerance come from; evaluated: False reads "not evaluated"; note: why it fails, or what
    was chosen; finding: why a failing claim fails, one of `FINDINGS` (None while it passes, or
    where nobody has classified the failure yet, e.g. a reader's rerun with other parameters);
    same_as: "chapter/id" of the one claim that counts for this statement, where a chapter shows a
    claim another chapter already tests (shown, not counted)."""

    id: str
    statement: str
    ref: str
    measured: float | bool | None
    expected: float | None = None
    tol: float = 0.0
    kind: str = "abs"
    evaluated: bool = True
    note: str = ""
    target_origin: str = ""
    tol_origin: str = ""
    finding: str | None = None
    same_as: str | None = None

    def __post_init__(self):
        where = f"claim {self.id!r}"
        if self.finding is not None and self.finding not in FINDINGS:
            raise ValueError(f"{where}: finding must be one of {tuple(FINDINGS)} or None, got {self.finding!r}")
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise ValueError(f"{where}: id must be snake_case (letters, digits, _), got {self.id!r}")
        if self.kind not in KINDS:
            raise ValueError(f"{where}: kind must be one of {KINDS}, got {self.kind!r}")
        m = self.measured
        if isinstance(m, np.bool_):
            m = self.measured = bool(m)
        if self.kind == "true":
            if m is not None and not isinstance(m, bool):
                raise ValueError(f"{where}: kind 'true' needs a real boolean as measured, got {m!r}")
            return
        if self.expected is None:
            raise ValueError(f"{where}: kind {self.kind!r} needs an expected value")
        if isinstance(m, bool):
            raise ValueError(f"{where}: kind {self.kind!r} needs a number as measured, got the boolean {m!r}")
        for name, v in (("measured", m), ("expected", self.expected), ("tol", self.tol)):
            if v is not None and not math.isfinite(float(v)):
                raise ValueError(f"{where}: {name} is {v!r}; a claim needs a finite number (or measured=None)")
        if self.tol < 0:
            raise ValueError(f"{where}: tol must be >= 0, got {self.tol!r}")

    @property
    def margin(self) -> float | None:
        """Distance inside (+) or outside (−) the accepted region, in the measured value's units."""
        m, e = self.measured, self.expected
        if m is None or self.kind == "true":
            return None
        return {
            "abs": lambda: self.tol - abs(m - e),
            "rel": lambda: self.tol * abs(e) - abs(m - e),
            "max": lambda: e - m,
            "min": lambda: m - e,
        }[self.kind]()

    @property
    def status(self) -> str:
        if not self.evaluated or self.measured is None:
            return "not evaluated"
        ok = self.measured if self.kind == "true" else self.margin >= 0
        return "pass" if ok else "fail"

    @property
    def criterion(self) -> str:
        e = self.expected
        return {
            "abs": lambda: f"{_fmt(e)} ± {_fmt(self.tol)}",
            "rel": lambda: f"{_fmt(e)} ± {self.tol:.1%}",
            "max": lambda: f"≤ {_fmt(e)}",
            "min": lambda: f"≥ {_fmt(e)}",
            "true": lambda: "holds",
        }[self.kind]()

    def row(self) -> dict:
        m = self.measured
        shown = "—" if m is None else ("yes" if m is True else "no" if m is False else _fmt(m))
        margin = self.margin
        return {
            "id": self.id,
            "ref": self.ref,
            "claim": self.statement,
            "measured": shown,
            "criterion": self.criterion,
            "margin": "—" if margin is None else f"{margin:+.3g}",
            "status": self.status,
            "finding": self.finding,
        }


def _fmt(x) -> str:
    if x is None:
        return "—"
    x = float(x)
    if x == 0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:.4g}"
    return f"{x:.3e}"


class ClaimsTable:
    """The claims of one chapter. evaluate: whether the profile's budget can judge claims that need
    trained models; a claim added with always=True (its tolerance scales with its own Monte Carlo
    error and it needs no training) is evaluated in every profile. meta: what the chapter ran
    with (profile, task parameters), saved with the claims."""

    def __init__(self, chapter: str, evaluate: bool = True, meta: dict | None = None):
        self.chapter = chapter
        self.evaluate = evaluate
        self.meta = dict(meta or {})
        self.claims: list[Claim] = []

    def add(
        self,
        id: str,
        statement: str,
        ref: str,
        measured,
        expected=None,
        tol: float = 0.0,
        kind: str = "abs",
        *,
        note: str = "",
        note_if_fail: str = "",
        target_origin: str = "",
        tol_origin: str = "",
        always: bool = False,
        finding: str | None = None,
        same_as: str | None = None,
    ) -> Claim:
        """Add a claim. note_if_fail is appended to the note only when the claim fails. finding: the
        chapter's classification of a failure at the authors' budget (`FINDINGS`), kept only when the
        claim fails; at a smaller budget a claim that passes in the published paper edition fails
        for the budget, and says so. same_as: "chapter/id" of the claim that counts for the same
        statement (this one is shown in the chapter, not counted on the scorecard)."""
        if id in self.ids():
            raise ValueError(f"claim id {id!r} is already in {self.chapter}'s table")
        if measured is not None and not isinstance(measured, (bool, np.bool_)):
            measured = float(measured)
        c = Claim(
            id,
            statement,
            ref,
            measured,
            None if expected is None else float(expected),
            float(tol),
            kind,
            self.evaluate or always,
            note,
            target_origin,
            tol_origin,
            finding,
            same_as,
        )
        if c.status == "fail":
            c.note = f"{c.note} {note_if_fail}".strip()
            if self._passes_in_paper_edition(id):
                c.finding = "budget"
                c.note = f"{c.note} It passes at the authors' budget (the paper edition).".strip()
        else:
            c.finding = None
        self.claims.append(c)
        return c

    def at_paper(self, value):
        """`value` (a claim's finding or same_as) where the chapter runs at the paper's parameters;
        None under a reader's own (another model, another question, which nobody has classified)."""
        return None if self.meta.get("params") else value

    def _passes_in_paper_edition(self, id: str) -> bool:
        """Whether this chapter's claim `id` passes in the published paper edition (False at the
        paper profile itself, or under a reader's parameters: a different question)."""
        if self.meta.get("profile") in (None, "paper") or self.meta.get("params"):
            return False
        path = published_claims_dir("paper") / f"{self.chapter}.json"
        if not path.exists():
            return False
        return any(c["id"] == id and c["status"] == "pass" for c in json.loads(path.read_text())["claims"])

    def ids(self) -> list[str]:
        return [c.id for c in self.claims]

    def __getitem__(self, id: str) -> Claim:
        for c in self.claims:
            if c.id == id:
                return c
        raise KeyError(f"no claim {id!r} in {self.chapter}; ids: {self.ids()}")

    def rows(self) -> list[dict]:
        return [c.row() for c in self.claims]

    def counted(self) -> list[Claim]:
        """The claims the scorecard counts: all but those that repeat another chapter's (`same_as`)."""
        return [c for c in self.claims if c.same_as is None]

    def counts(self) -> dict[str, int]:
        s = [c.status for c in self.counted()]
        return {k: s.count(k) for k in ("pass", "fail", "not evaluated")}

    def summary(self) -> str:
        n = self.counts()
        return f"{self.chapter}: {n['pass']} pass, {n['fail']} fail, {n['not evaluated']} not evaluated"

    def to_markdown(self) -> str:
        head = "| ref | claim | measured | criterion | margin | status |\n|---|---|---|---|---|---|\n"

        def cell(v):
            return str(v).replace("|", "\\|")  # a literal | would split the cell

        body = "".join(
            f"| {cell(r['ref'])} | {cell(r['claim'])} | {r['measured']} | {r['criterion']} | {r['margin']} | "
            f"{status_label(r['status'], r['finding'])} |\n"
            for r in self.rows()
        )
        notes = []
        for c in self.claims:
            parts = [
                p
                for p in (
                    c.note,
                    c.target_origin and f"Target: {c.target_origin}.",
                    c.tol_origin and f"Tolerance: {c.tol_origin}.",
                )
                if p
            ]
            if c.same_as:
                parts.insert(0, f"The same statement as {c.same_as}, which counts for it on the scorecard.")
            if parts:
                notes.append(f"\n- *{cell(c.ref)}* ({c.id}) — " + " ".join(parts))
        return head + body + (("\n**Notes.**" + "".join(notes)) if notes else "")

    def measured_text(self) -> str:
        """One line per claim, `id: measured [status]`, for nbval regression cells."""
        return "\n".join(f"{r['id']}: {r['measured']} [{r['status']}]" for r in self.rows())

    def show(self):
        """Display the table in a notebook (Markdown) and return nothing."""
        from IPython.display import Markdown, display

        display(Markdown(self.to_markdown()))

    def save(self, directory: str | os.PathLike | None = None) -> Path:
        """Write claims JSON to `directory` (default `claims_dir()`), atomically."""
        out = Path(directory) if directory is not None else claims_dir()
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{self.chapter}.json"
        tmp = path.with_suffix(f".json.{os.getpid()}.tmp")
        from ..arithmetic import describe

        payload = {
            "chapter": self.chapter,
            "meta": self.meta,
            "arithmetic": describe(
                self.meta.get("device") if str(self.meta.get("device", "")).startswith("cuda") else None
            ),
            "claims": [dict(asdict(c), status=c.status, margin=c.margin) for c in self.claims],
        }
        tmp.write_text(json.dumps(payload, indent=1))
        os.replace(tmp, path)
        return path


def claims_dir() -> Path:
    """Where chapters write their claims: $ICL_CLAIMS_DIR, else ./claims beside the notebook."""
    return Path(os.environ.get("ICL_CLAIMS_DIR", "claims"))


def load_all_claims(directory: str | os.PathLike | None = None) -> list[dict]:
    """Every saved claim, with its chapter and the chapter's meta, in chapter order."""
    d = Path(directory) if directory is not None else claims_dir()
    rows = []
    for f in sorted(d.glob("*.json")):
        data = json.loads(f.read_text())
        for c in data["claims"]:
            rows.append(dict(c, chapter=data["chapter"], meta=data.get("meta", {})))
    return rows


def load_tables(directory: str | os.PathLike | None = None) -> list[ClaimsTable]:
    """Every saved chapter's claims as a `ClaimsTable`, in chapter order."""
    d = Path(directory) if directory is not None else claims_dir()
    fields = Claim.__dataclass_fields__
    tables = []
    for f in sorted(d.glob("*.json")):
        data = json.loads(f.read_text())
        t = ClaimsTable(data["chapter"], meta=data.get("meta", {}))
        t.claims = [Claim(**{k: v for k, v in c.items() if k in fields}) for c in data["claims"]]
        tables.append(t)
    return tables


class _Counts(dict):
    """Book-wide counts (keys profile, n-pass, n-fail, n-not-evaluated, n-total) and `.frame`, a
    per-chapter table of the same counts."""

    frame = None


def scorecard_counts(tables: list[ClaimsTable]) -> _Counts:
    """Counts over every saved chapter table; raises when there is none (execute the chapters first)."""
    import pandas as pd

    if not tables:
        raise RuntimeError(f"no claims found in {claims_dir()}: execute the chapters first (make book)")
    frame = pd.DataFrame({t.chapter: t.counts() for t in tables}).T
    profiles = sorted({t.meta.get("profile", "?") for t in tables})
    out = _Counts(
        {
            "profile": ", ".join(profiles),
            **{f"n-{k.replace(' ', '-')}": str(int(frame[k].sum())) for k in frame},
            "n-total": str(int(frame.values.sum())),
        }
    )
    out.frame = frame
    return out


# --- the editions: claims of each published budget, side by side ------------------------------------


def published_claims_dir(profile: str) -> Path:
    """Where the claims of the `profile` edition are published: <results>/<profile>/claims."""
    from ..runs.publish import results_dir

    return results_dir() / profile / "claims"


def publish_claims(profile: str, source: str | os.PathLike | None = None) -> list[Path]:
    """Copy the claims tables in `source` (default `claims_dir()`) executed at `profile` with the
    chapters' default parameters into the published edition; raises when there is none. A table
    run with a reader's parameters (d = 10, …) is not the edition's and is skipped."""
    import shutil

    src = Path(source) if source is not None else claims_dir()
    out = published_claims_dir(profile)
    done = []
    for f in sorted(src.glob("*.json")):
        meta = json.loads(f.read_text()).get("meta", {})
        if meta.get("profile") == profile and not meta.get("params"):
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, out / f.name)
            done.append(out / f.name)
    if not done:
        raise ValueError(f"no claims of profile {profile!r} with default parameters in {src}")
    return done


def budgets_side_by_side(live: list[ClaimsTable], editions=EDITIONS):
    """Every claim's status and measured value at each edition's budget: the live tables (this
    build's) for their own profile, the published ones for the others. Returns (frame, counts):
    frame rows (chapter, id), columns per edition "<profile>" (status) and "<profile> measured";
    counts: {profile: {"pass": n, "fail": n, "not evaluated": n, "not run": n}}."""
    import pandas as pd

    live_profiles = {t.meta.get("profile") for t in live}
    by_edition = {}
    for prof in editions:
        tables = (
            [t for t in live if t.meta.get("profile") == prof]
            if prof in live_profiles
            else load_tables(published_claims_dir(prof))
            if published_claims_dir(prof).is_dir()
            else []
        )
        by_edition[prof] = {(t.chapter, c.id): c for t in tables for c in t.counted()}
    keys = list(dict.fromkeys(k for prof in editions for k in by_edition[prof]))
    rows = []
    for k in keys:
        row = {"chapter": k[0], "id": k[1]}
        for prof in editions:
            c = by_edition[prof].get(k)
            row[prof] = "not run" if c is None else c.status
            row[f"{prof} measured"] = "" if c is None else c.row()["measured"]
        rows.append(row)
    frame = pd.DataFrame(rows).set_index(["chapter", "id"]) if rows else pd.DataFrame()
    counts = {
        prof: {s: int((frame[prof] == s).sum()) if rows else 0 for s in ("pass", "fail", "not evaluated", "not run")}
        for prof in editions
    }
    return frame, counts


def edition_table_markdown(frame, editions=EDITIONS) -> str:
    """`budgets_side_by_side`'s frame as a Markdown table: claims whose status differs between the
    editions first (then book order), each edition's status and measured value."""
    if frame.empty:
        return "*No claims yet.*"
    differs = frame[list(editions)].nunique(axis=1) > 1
    order = list(frame.index[differs]) + list(frame.index[~differs])
    head = "| chapter | claim | " + " | ".join(editions) + " |\n|---|---|" + "---|" * len(editions) + "\n"
    body = ""
    for chapter, cid in order:
        r = frame.loc[(chapter, cid)]
        cells = [f"{STATUS_LABEL[r[p]]} {r[f'{p} measured']}".strip() for p in editions]
        body += f"| {chapter} | {cid} | " + " | ".join(cells) + " |\n"
    return head + body
