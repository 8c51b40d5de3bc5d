"""The same verdicts under another arithmetic.

`make arithmetic-test` executes the chapters that run their own optimisation (gradient descent and
flows, SciPy's optimisers, Monte Carlo) in the smoke profile a second time, under ATen's `default`
kernels and numpy's and OpenBLAS's native ones (`ICL_KERNELS=native`), and this test compares that
build's claims with the pinned smoke build's (`make smoke-chapters`). Every claim must reach the same
verdict — judged as if evaluated, since the smoke profile leaves most claims unevaluated — or the
book's verdicts would depend on the reader's CPU: the last bits of a sum would decide them.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from icl.book.claims import Claim

_FIELDS = {f.name for f in fields(Claim)}


def verdicts(claims_dir) -> dict:
    """{"chapter/id": (verdict, measured)} for every claim in `claims_dir`; the verdict is the status
    the claim would have if evaluated ("none" where nothing was measured)."""
    out = {}
    for f in sorted(Path(claims_dir).glob("*.json")):
        data = json.loads(f.read_text())
        for c in data["claims"]:
            claim = Claim(**{**{k: v for k, v in c.items() if k in _FIELDS}, "evaluated": True})
            out[f"{data['chapter']}/{c['id']}"] = ("none" if claim.measured is None else claim.status, claim.measured)
    return out


def differing(ours: dict, theirs: dict) -> list[str]:
    """The claims of `theirs` whose verdict differs from `ours` (or that `ours` lacks), named with both values."""
    out = []
    for key, (v, m) in theirs.items():
        if key not in ours:
            out.append(f"{key}: only under the other arithmetic")
        elif ours[key][0] != v:
            out.append(f"{key}: {ours[key][0]} at {ours[key][1]!r} pinned, {v} at {m!r} under the other arithmetic")
    return out


def test_chapters_reach_the_same_verdicts_under_another_arithmetic(executed_dir, request):
    other = request.config.getoption("--other")
    if other is None:
        pytest.skip("needs --other DIR (run by `make arithmetic-test`)")
    theirs = verdicts(Path(other) / "claims")
    assert theirs, f"no claims in {other}/claims"
    problems = differing(verdicts(Path(executed_dir) / "claims"), theirs)
    assert not problems, "verdicts that depend on the arithmetic:\n" + "\n".join(problems)


def test_differing_names_a_flipped_verdict_and_ignores_agreement(tmp_path):
    def write(d, measured):
        (d / "claims").mkdir(parents=True)
        claims = [
            {
                "id": "a",
                "statement": "s",
                "ref": "r",
                "measured": measured,
                "expected": 0.01,
                "tol": 0.0,
                "kind": "max",
                "evaluated": False,
            },
            {"id": "b", "statement": "s", "ref": "r", "measured": True, "kind": "true"},
        ]
        (d / "claims" / "04_x.json").write_text(json.dumps({"chapter": "04_x", "claims": claims}))
        return verdicts(d / "claims")

    pinned, other = write(tmp_path / "p", 0.0098), write(tmp_path / "o", 0.0130)
    assert pinned["04_x/a"][0] == "pass" and other["04_x/a"][0] == "fail"  # judged although not evaluated
    assert differing(pinned, other) == ["04_x/a: pass at 0.0098 pinned, fail at 0.013 under the other arithmetic"]
    assert differing(pinned, pinned) == []
