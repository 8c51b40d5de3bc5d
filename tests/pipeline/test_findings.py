"""The Findings page's verdict rule, and its contributions against the published paper edition."""

import pytest

from icl.book.claims import Claim, load_tables, published_claims_dir
from icl.pipeline import findings


def _claim(status: str, finding: str | None = None) -> Claim:
    if status == "not evaluated":
        return Claim("c", "s", "r", 1.0, 0.0, 0.5, "abs", evaluated=False)
    return Claim("c", "s", "r", 0.0 if status == "pass" else 1.0, 0.0, 0.5, "abs", finding=finding)


@pytest.mark.parametrize(
    "outcomes, expected",
    [
        (["pass", "pass"], "holds"),
        (["pass", ("fail", "reading"), ("fail", "budget"), ("fail", "setup")], "holds with a caveat"),
        (["pass", "pass", "pass", ("fail", "paper")], "holds with a caveat"),
        (["pass", "pass", ("fail", "paper"), ("fail", "paper")], "does not hold in our runs"),
        ([("fail", "paper")], "does not hold in our runs"),
        (["not evaluated"], "not evaluated"),
        (["pass", "not evaluated"], "holds"),
    ],
)
def test_the_verdict_follows_the_stated_rule(outcomes, expected):
    claims = [_claim(o) if isinstance(o, str) else _claim(*o) for o in outcomes]
    assert findings.verdict(claims) == expected


def _paper_edition() -> dict:
    return {(t.chapter, c.id): c for t in load_tables(published_claims_dir("paper")) for c in t.claims}


def test_every_contribution_is_decided_by_published_claims():
    paper = _paper_edition()
    for contribution in findings.CONTRIBUTIONS:
        for pattern in contribution.claims:
            one = findings.Contribution("x", "", "", "", (pattern,), "")
            assert findings.deciding(one, paper), f"{contribution.key}: {pattern} matches no published claim"


def test_every_published_claim_decides_a_contribution():
    paper = _paper_edition()
    used = {id(c) for contribution in findings.CONTRIBUTIONS for c in findings.deciding(contribution, paper)}
    orphans = [f"{ch}/{cid}" for (ch, cid), c in paper.items() if id(c) not in used]
    assert not orphans, orphans


@pytest.mark.parametrize("edition", ["quick", "paper"])
def test_every_published_failure_is_classified_and_every_repeat_points_at_a_counted_claim(edition):
    tables = load_tables(published_claims_dir(edition))
    counted = {f"{t.chapter}/{c.id}" for t in tables for c in t.counted()}
    for t in tables:
        for c in t.claims:
            where = f"{edition}: {t.chapter}/{c.id}"
            assert len(c.statement.split()) >= 4, f"{where}: a statement a reader understands without the id"
            assert (c.finding is not None) == (c.status == "fail"), f"{where}: {c.status} with finding {c.finding}"
            assert c.same_as is None or c.same_as in counted, f"{where}: same_as {c.same_as} is not a counted claim"


def test_every_contribution_shows_a_figure_its_chapter_glues():
    from pathlib import Path

    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    for c in findings.CONTRIBUTIONS:
        chapter, key = c.figure.split("/")
        assert f"```{{glue:figure}} {key}\n" in (notebooks / f"{chapter}.py").read_text().replace("# ", ""), c.figure
