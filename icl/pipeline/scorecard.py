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
    "frame_html",
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


def glue_paper_training(profile: str = "paper") -> str:
    """The published models' training (keys score-paper-models, -hours, -rate); returns its table as
    HTML (`frame_html`), or a sentence when nothing is published."""
    from ..runs.publish import training_summary

    t = training_summary(profile)
    glue_text("score-paper-models", int(t["seeds"].str.split(",").str.len().sum()) if len(t) else 0)
    glue_text("score-paper-hours", f"{t['wall (min)'].sum() / 60:.1f}" if len(t) else "0")
    glue_text("score-paper-rate", f"{t['model-steps/s'].median():.0f}" if len(t) else "—")
    if not len(t):
        return f"<p><em>No {profile}-profile model is published yet.</em></p>"
    return frame_html(t, {"wall (min)": "{:.1f}", "model-steps/s": "{:.0f}", "model-steps": "{:,}"})


def paper_training_by_chapter(profile: str = "paper") -> str:
    """`training_by_chapter` as HTML (`frame_html`)."""
    return frame_html(
        training_by_chapter(profile),
        {"training wall (h)": "{:.1f}", "models read": "{:.0f}", "published": "{:.0f}"},
    )


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


# --- the page a reader can take in: an overview figure, statements, folded details ---------------

# Colours of a claim's status, a failing claim's by its finding (`icl.book.claims.FINDINGS`).
STATUS_COLOURS = {
    "pass": "#4daf4a",
    "paper": "#e41a1c",
    "reading": "#ff7f00",
    "budget": "#984ea3",
    "setup": "#a65628",
    "unclassified": "#222222",
    "not evaluated": "#bdbdbd",
    "not run": "#f0f0f0",
}


def outcome(c) -> str:
    """A claim's colour key: "pass", its finding when it fails ("unclassified" if none), or its status."""
    if c is None:
        return "not run"
    if c.status == "fail":
        return c.finding or "unclassified"
    return c.status


def editions(tables, editions=None) -> dict:
    """profile → {(chapter, id): Claim}: this build's tables for its own profile, the published ones
    for the other editions (as `icl.book.claims.budgets_side_by_side` reads them)."""
    from ..book.claims import EDITIONS, load_tables, published_claims_dir

    out = {}
    live = {t.meta.get("profile") for t in tables}
    for prof in editions or EDITIONS:
        src = (
            [t for t in tables if t.meta.get("profile") == prof]
            if prof in live
            else load_tables(published_claims_dir(prof))
            if published_claims_dir(prof).is_dir()
            else []
        )
        out[prof] = {(t.chapter, c.id): c for t in src for c in t.counted()}
    return out


def plot_overview(by_edition: dict):
    """Every claim of the book as one square per edition, chapters as rows, coloured by outcome:
    green pass, a failure by its finding, grey not evaluated. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from ..book import style

    keys = list(dict.fromkeys(k for claims in by_edition.values() for k in claims))
    chapters = sorted(dict.fromkeys(ch for ch, _ in keys))  # in book order (an edition may lack a chapter)
    width = max(sum(1 for k in keys if k[0] == ch) for ch in chapters)
    # One panel per edition, stacked (each the full width, so that a claim's square is large enough to see).
    fig, axes = plt.subplots(
        len(by_edition),
        1,
        figsize=(style.FULL_WIDTH, len(by_edition) * (0.22 * len(chapters) + 0.55) + 0.6),
        sharex=True,
        squeeze=False,
    )
    for ax, (prof, claims) in zip(axes[:, 0], by_edition.items()):
        for row, ch in enumerate(chapters):
            ids = [k for k in keys if k[0] == ch]
            for col, k in enumerate(ids):
                ax.add_patch(
                    plt.Rectangle(
                        (col, row - 0.4),
                        0.86,
                        0.8,
                        color=STATUS_COLOURS[outcome(claims.get(k))],
                        ec="#999999" if claims.get(k) is None else "none",
                        lw=0.4,
                    )
                )
        n = {s: sum(outcome(c) == s for c in claims.values()) for s in STATUS_COLOURS}
        ax.set_title(f"{prof} edition: {n['pass']} pass of {len(claims)}")
        ax.set_xlim(-0.3, width + 0.2)
        ax.set_ylim(len(chapters) - 0.4, -0.6)
        ax.set_xticks([])
        ax.grid(False)
        ax.set_yticks(range(len(chapters)), [c.replace("_", " ") for c in chapters])
    axes[-1, 0].set_xlabel("claims, in chapter order")
    used = {outcome(claims.get(k)) for claims in by_edition.values() for k in keys}
    labels = {
        "paper": "fail: the paper's statement",
        "reading": "fail: a stricter reading",
        "budget": "fail: our budget",
        "setup": "fail: our setup",
        "unclassified": "fail: not classified",
    }
    fig.legend(
        handles=[
            Patch(
                facecolor=STATUS_COLOURS[s],
                edgecolor="#999999" if s == "not run" else STATUS_COLOURS[s],
                lw=0.4,
                label=labels.get(s, s),
            )
            for s in STATUS_COLOURS
            if s in used
        ],
        loc="outside lower center",
        ncol=3,
        frameon=False,
    )
    return fig


def esc(text) -> str:
    import html

    return html.escape(str(text))


_TABLE = (
    '<table class="icl-claims" style="table-layout: fixed; width: 100%; font-size: 0.85em; overflow-wrap: anywhere;">'
)


def html_table(header: list[str], rows: list[list[str]], widths: list[int]) -> str:
    """An HTML table that fits the page: fixed column widths (percent), long words wrapped. Cells are
    HTML already (escape text with `esc`)."""
    cols = "".join(f'<col style="width: {w}%">' for w in widths)
    cell = 'style="text-align: left; vertical-align: top;"'  # the notebook theme right-aligns table cells
    head = "".join(f"<th {cell}>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td {cell}>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"{_TABLE}<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def folded(summary: str, body_html: str, open_: bool = False) -> str:
    """A <details> block: the summary line always shown, the body when the reader opens it."""
    return f"<details{' open' if open_ else ''}><summary>{summary}</summary>\n{body_html}\n</details>"


def status_html(c) -> str:
    if c is None:
        return "<em>not run</em>"
    label = {"pass": "pass", "fail": "<strong>FAIL</strong>", "not evaluated": "<em>not evaluated</em>"}[c.status]
    shown = c.row()["measured"]
    return f"{label}{f' ({c.finding})' if c.status == 'fail' and c.finding else ''}<br><small>{esc(shown)}</small>"


def differing_claims_html(by_edition: dict) -> tuple[str, int]:
    """The claims whose status differs between the editions (statements, each edition's status and
    measured value) as an HTML table, and how many there are."""
    profs = list(by_edition)
    keys = list(dict.fromkeys(k for claims in by_edition.values() for k in claims))
    rows = []
    for k in keys:
        cs = [by_edition[p].get(k) for p in profs]
        if len({None if c is None else c.status for c in cs}) > 1:
            any_c = next(c for c in cs if c is not None)
            rows.append(
                [
                    esc(k[0][:2]),
                    f"{esc(any_c.statement)} <small>({esc(any_c.ref)})</small>",
                    *[status_html(c) for c in cs],
                ]
            )
    return html_table(["ch.", "claim", *profs], rows, [5, 59, *[36 // len(profs)] * len(profs)]), len(rows)


def failing_claims_html(claims: dict) -> str:
    """Every failing claim of one edition: its statement, measured against criterion, finding and note."""
    rows = [
        [
            esc(ch[:2]),
            f"{esc(c.statement)} <small>({esc(c.ref)})</small>",
            f"{esc(c.row()['measured'])} vs {esc(c.criterion)}",
            esc(c.finding or "not classified"),
            esc(c.note),
        ]
        for (ch, _), c in claims.items()
        if c.status == "fail"
    ]
    return html_table(["ch.", "claim", "measured vs criterion", "finding", "why"], rows, [5, 35, 14, 9, 37])


def chapter_html(table) -> str:
    """One chapter's full claims table, folded: statement, measured, criterion, margin, status, and
    the notes (why it fails; where its target and tolerance come from)."""
    rows = []
    for c in table.claims:
        r = c.row()
        origin = " ".join(
            p
            for p in (
                c.same_as and f"Not counted here: the same statement as {c.same_as}.",
                c.note,
                c.target_origin and f"Target: {c.target_origin}.",
                c.tol_origin and f"Tolerance: {c.tol_origin}.",
            )
            if p
        )
        rows.append(
            [
                f"{esc(c.statement)} <small>({esc(c.ref)}; <code>{esc(c.id)}</code>)</small>",
                esc(r["measured"]),
                esc(r["criterion"]),
                esc(r["margin"]),
                status_html(c).split("<br>")[0],
                f"<small>{esc(origin)}</small>",
            ]
        )
    n = table.counts()
    summary = f"<strong>{esc(table.chapter.replace('_', ' '))}</strong>: {n['pass']} pass, {n['fail']} fail" + (
        f", {n['not evaluated']} not evaluated" if n["not evaluated"] else ""
    )
    return folded(
        summary,
        html_table(["claim", "measured", "criterion", "margin", "status", "notes"], rows, [34, 9, 11, 7, 9, 30]),
    )


def frame_html(frame, formats: dict | None = None) -> str:
    """A DataFrame as an `html_table` that fits the page: equal column widths, each column's values
    through its str.format pattern in `formats` (missing values left blank)."""
    formats = formats or {}

    def cell(col, v):
        if v is None or v != v:  # None or NaN
            return ""
        return esc(formats[col].format(v) if col in formats else v)

    rows = [[cell(col, v) for col, v in zip(frame.columns, r)] for r in frame.itertuples(index=False)]
    n = len(frame.columns)
    return html_table([esc(c) for c in frame.columns], rows, [100 // n] * n)
