import json

import pytest

from icl.claims import Claim, ClaimsTable, load_all_claims


def test_statuses():
    assert Claim("a", "r", 0.5, 0.52, tol=0.03).status == "pass"
    assert Claim("a", "r", 0.5, 0.6, tol=0.03).status == "fail"
    assert Claim("a", "r", 0.88, 0.879, tol=0.01, kind="rel").status == "pass"
    assert Claim("a", "r", 0.02, 0.05, kind="max").status == "pass"
    assert Claim("a", "r", 0.9, 1.0, kind="min").status == "fail"
    assert Claim("a", "r", False, kind="true").status == "fail"
    assert Claim("a", "r", float("nan"), 1.0, tol=1.0).status == "fail"
    assert Claim("a", "r", 0.5, 0.5, evaluated=False).status == "not evaluated"


def test_bad_claims_are_named():
    with pytest.raises(ValueError, match="kind"):
        Claim("a", "r", 1.0, 1.0, kind="approx")
    with pytest.raises(ValueError, match="expected"):
        Claim("a", "r", 1.0, None, kind="abs")


def test_table_round_trip(tmp_path):
    t = ClaimsTable("07_test")
    t.add("x ≈ 1", "Obs. 1", 1.01, 1.0, tol=0.05)
    t.add("y small", "Obs. 2", 0.3, 0.1, kind="max", note="needs more steps")
    assert "❌ fail" in t.to_markdown() and "needs more steps" in t.to_markdown()
    t.save(tmp_path)
    rows = load_all_claims(tmp_path)
    assert [r["status"] for r in rows] == ["pass", "fail"] and rows[0]["chapter"] == "07_test"
    assert json.loads((tmp_path / "07_test.json").read_text())["chapter"] == "07_test"
    smoke = ClaimsTable("08", evaluate=False)
    smoke.add("x", "r", 5.0, 1.0)
    assert smoke.claims[0].status == "not evaluated"


def test_saved_tables_load_back_with_their_statuses(tmp_path):
    from icl.claims import ClaimsTable, load_tables

    t = ClaimsTable("07_x")
    t.add("a holds", "Obs. 1", 0.5, 1.0, tol=0.1, note="why it fails")
    t.add("b holds", "Obs. 2", True, kind="true")
    t.save(tmp_path)
    (back,) = load_tables(tmp_path)
    assert back.chapter == "07_x" and [c.status for c in back.claims] == ["fail", "pass"]
    assert back.to_markdown() == t.to_markdown()
