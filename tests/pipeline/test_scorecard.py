"""The expected scorecards: the last build's claims against a committed record.

tests/expected/scorecard_quick.json maps "chapter/claim_id" to the status the claim had and the
range its measured value may move in (the rule is `allowed_range`). A claim that changes status,
leaves its range, appears or disappears fails this test, by name. The record is rewritten, after a
reviewed change, by `make expected-scorecard` (= `python tests/pipeline/test_scorecard.py --write DIR OUT`).
Run by `make test` on executed/claims when those come from a quick build with the default
parameters; otherwise the test says so and skips. A paper-profile build is checked the same way
against the published paper edition, results/paper/claims (its record is computed from them).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

EXPECTED = Path(__file__).resolve().parents[1] / "expected" / "scorecard_quick.json"
PUBLISHED_PAPER = Path(__file__).resolve().parents[2] / "results" / "paper" / "claims"


def allowed_range(measured: float) -> list[float]:
    """±2 % of the value (at least ±1e-3): a quick build on this CPU reproduces every number
    exactly (seeded data, one thread); other hardware moves training and Monte Carlo in the last
    digits, not by percents."""
    r = max(0.02 * abs(measured), 1e-3)
    return [measured - r, measured + r]


def record(claims_dir: Path) -> dict:
    """{"chapter/id": {"status", "measured" or "range"}} for the claims in `claims_dir`."""
    out = {}
    for f in sorted(Path(claims_dir).glob("*.json")):
        data = json.loads(f.read_text())
        for c in data["claims"]:
            m = c["measured"]
            entry = {"status": c["status"]}
            entry.update({"measured": m} if isinstance(m, bool) or m is None else {"range": allowed_range(m)})
            out[f"{data['chapter']}/{c['id']}"] = entry
    return out


def profile_claims(claims_dir: Path, profile: str = "quick") -> list[dict]:
    """The chapters' claims in `claims_dir` if all come from `profile` with default parameters, else []."""
    files = sorted(Path(claims_dir).glob("*.json"))
    metas = [json.loads(f.read_text()).get("meta", {}) for f in files]
    if not files or any(m.get("profile") != profile or m.get("params") for m in metas):
        return []
    return [json.loads(f.read_text()) for f in files]


def mismatches(chapters: list[dict], expected: dict, *, require_all: bool = True) -> list[str]:
    """Every claim of `chapters` that changed status, left its range or is not in `expected`; with
    `require_all`, every expected claim that was not produced."""
    problems = []
    for ch in chapters:
        for c in ch["claims"]:
            key = f"{ch['chapter']}/{c['id']}"
            e = expected.get(key)
            if e is None:
                problems.append(f"{key}: not in the expected scorecard")
                continue
            if c["status"] != e["status"]:
                problems.append(f"{key}: status {c['status']}, expected {e['status']}")
            if "range" in e and c["measured"] is not None and not e["range"][0] <= c["measured"] <= e["range"][1]:
                problems.append(
                    f"{key}: measured {c['measured']:.6g} outside {e['range'][0]:.6g} … {e['range'][1]:.6g}"
                )
            if "measured" in e and c["measured"] != e["measured"]:
                problems.append(f"{key}: measured {c['measured']}, expected {e['measured']}")
    if require_all:
        seen = {f"{ch['chapter']}/{c['id']}" for ch in chapters for c in ch["claims"]}
        problems += [f"{k}: expected but not produced" for k in expected if k not in seen]
    return problems


def check_build(executed_dir, profile: str, expected: dict, build: str):
    """Skip, saying so, unless `executed_dir` holds a `profile` build with default parameters; else
    fail naming every claim that differs from `expected`."""
    claims_dir = Path(executed_dir) / "claims"
    chapters = profile_claims(claims_dir, profile)
    if not chapters:
        pytest.skip(
            f"no {profile}-profile claims with default parameters in {claims_dir}: run `{build}` "
            f"first; the {profile} edition's claims were not checked"
        )
    problems = mismatches(chapters, expected)
    flipped = [p for p in problems if ": status " in p]
    assert not problems, (
        f"{len(flipped)} claim(s) whose status differs from the record:\n"
        + "\n".join(flipped)
        + "\nother differences:\n"
        + "\n".join(p for p in problems if p not in flipped)
    )


def test_quick_claims_match_the_expected_scorecard(executed_dir):
    check_build(executed_dir, "quick", json.loads(EXPECTED.read_text()), "make book PROFILE=quick")


def test_paper_claims_match_the_published_edition(executed_dir):
    """A paper build renders the published models, so its claims are the published ones (±2 %)."""
    check_build(executed_dir, "paper", record(PUBLISHED_PAPER), "make book")


def test_mismatches_names_each_kind_of_change():
    expected = {
        "c/a": {"status": "pass", "range": allowed_range(1.0)},
        "c/b": {"status": "fail", "measured": True},
        "c/gone": {"status": "pass", "measured": None},
    }
    chapters = [
        {
            "chapter": "c",
            "claims": [
                {"id": "a", "status": "fail", "measured": 1.5},
                {"id": "b", "status": "fail", "measured": False},
                {"id": "new", "status": "pass", "measured": 0.0},
            ],
        }
    ]
    got = mismatches(chapters, expected)
    assert any("c/a: status fail" in p for p in got) and any("c/a: measured 1.5 outside" in p for p in got)
    assert any("c/b: measured False" in p for p in got) and any("c/new: not in" in p for p in got)
    assert any("c/gone: expected but not produced" in p for p in got)
    assert (
        mismatches(
            [{"chapter": "c", "claims": [{"id": "a", "status": "pass", "measured": 1.01}]}], expected, require_all=False
        )
        == []
    )


if __name__ == "__main__":  # python tests/pipeline/test_scorecard.py --write CLAIMS_DIR OUT
    _, flag, src, dst = sys.argv
    assert flag == "--write", "usage: test_scorecard.py --write CLAIMS_DIR OUT"
    if not profile_claims(Path(src), "quick"):
        sys.exit(f"{src} holds no quick-profile claims with default parameters: run `make book PROFILE=quick` first")
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    Path(dst).write_text(json.dumps(record(Path(src)), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {dst}")
