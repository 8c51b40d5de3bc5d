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


# Chapters whose paper-profile models are still training: their claims are published in the quick edition
# only, and the Findings page reads "not evaluated" for their contributions until the paper edition has them.
NOT_YET_IN_PAPER_EDITION = set()


def _quick_edition() -> dict:
    return {(t.chapter, c.id): c for t in load_tables(published_claims_dir("quick")) for c in t.claims}


def test_every_contribution_is_decided_by_published_claims():
    paper, quick = _paper_edition(), _quick_edition()
    for contribution in findings.CONTRIBUTIONS:
        for pattern in contribution.claims:
            one = findings.Contribution("x", "", "", "", (pattern,), "")
            edition = quick if pattern.split("/")[0] in NOT_YET_IN_PAPER_EDITION else paper
            assert findings.deciding(one, edition), f"{contribution.key}: {pattern} matches no published claim"


def test_the_chapters_missing_from_the_paper_edition_are_the_listed_ones():
    in_paper = {ch for ch, _ in _paper_edition()}
    in_quick = {ch for ch, _ in _quick_edition()}
    assert in_quick - in_paper == NOT_YET_IN_PAPER_EDITION


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


def test_a_contribution_missing_from_the_paper_edition_is_shown_from_the_fallback_and_says_so():
    from icl.book.claims import Claim

    c = findings.Contribution("x", "t", "§1", "words", ("12_robustness/a_*",), "12_robustness/fig")
    quick = {("12_robustness", "a_one"): Claim("a_one", "a statement of four words", "§1", 0.1, 0.2, kind="max")}
    html = findings.contribution_html(c, {}, quick)
    assert "1 of 1 deciding claims pass (quick edition" in html and "holds" in html
    assert "not evaluated" in findings.contribution_html(c, {})  # no fallback: nothing to decide it
    quick_ch12 = {("12_robustness", "pattern_sgd"): quick[("12_robustness", "a_one")]}
    assert "(quick edition)" in findings.overview_html({}, quick_ch12)  # the robustness contribution's row
