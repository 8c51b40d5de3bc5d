"""The expected scorecard: the last quick-profile build's claims against a committed record.

tests/expected/scorecard_quick.json maps "chapter/claim_id" to the status the claim had and the
range its measured value may move in (the rule is `allowed_range`). A claim that changes status,
leaves its range, appears or disappears fails this test, by name. The record is rewritten, after a
reviewed change, by `make expected-scorecard` (= `python tests/test_scorecard.py --write DIR OUT`).
Run by `make test` on executed/claims when those come from a quick build with the default
parameters; otherwise the test says so and skips.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

EXPECTED = Path(__file__).parent / "expected" / "scorecard_quick.json"


def allowed_range(measured: float) -> list[float]:
    """±2 % of the value (at least ±1e-3): a quick build on this CPU reproduces every number
    exactly (seeded data, one thread); other hardware moves training and Monte Carlo in the last
    digits, not by percents."""
    r = max(0.02 * abs(measured), 1e-3)
    return [measured - r, measured + r]


def record(claims_dir: Path) -> dict:
    """{"chapter/id": {"status", "measured" or "range"}} for the quick claims in `claims_dir`."""
    out = {}
    for f in sorted(Path(claims_dir).glob("*.json")):
        data = json.loads(f.read_text())
        for c in data["claims"]:
            m = c["measured"]
            entry = {"status": c["status"]}
            entry.update({"measured": m} if isinstance(m, bool) or m is None else {"range": allowed_range(m)})
            out[f"{data['chapter']}/{c['id']}"] = entry
    return out


def quick_claims(claims_dir: Path) -> list[dict]:
    files = sorted(Path(claims_dir).glob("*.json"))
    metas = [json.loads(f.read_text()).get("meta", {}) for f in files]
    if not files or any(m.get("profile") != "quick" or m.get("params") for m in metas):
        return []
    return [json.loads(f.read_text()) for f in files]


def test_quick_claims_match_the_expected_scorecard(executed_dir):
    claims_dir = Path(executed_dir) / "claims"
    chapters = quick_claims(claims_dir)
    if not chapters:
        pytest.skip(f"no quick-profile claims with default parameters in {claims_dir}: run `make book` first; "
                    "the expected scorecard was not checked")
    expected = json.loads(EXPECTED.read_text())
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
                problems.append(f"{key}: measured {c['measured']:.6g} outside {e['range'][0]:.6g} … {e['range'][1]:.6g}")
            if "measured" in e and c["measured"] != e["measured"]:
                problems.append(f"{key}: measured {c['measured']}, expected {e['measured']}")
    seen = {f"{ch['chapter']}/{c['id']}" for ch in chapters for c in ch["claims"]}
    problems += [f"{k}: expected but not produced" for k in expected if k not in seen]
    assert not problems, "\n".join(problems)


if __name__ == "__main__":  # python tests/test_scorecard.py --write CLAIMS_DIR OUT
    _, flag, src, dst = sys.argv
    assert flag == "--write", "usage: test_scorecard.py --write CLAIMS_DIR OUT"
    if not quick_claims(Path(src)):
        sys.exit(f"{src} holds no quick-profile claims with default parameters: run `make book` first")
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    Path(dst).write_text(json.dumps(record(Path(src)), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {dst}")
