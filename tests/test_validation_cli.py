"""`ngi validate`: exit codes 0/1/2 and the JSON shape of the issue, with no database."""

from __future__ import annotations

import json
import random

import pytest

from core.cli import main
from core.validation import templates


@pytest.fixture(autouse=True)
def _no_database(monkeypatch, tmp_path):
    # Point at a database that does not exist: the command must not need one.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")


def _run(capsys, *args):
    code = main(["validate", *args])
    return code, capsys.readouterr().out


def test_passed_model_exits_0_with_outputs(tmp_path, capsys):
    path = tmp_path / "capstone.xlsx"
    path.write_bytes(templates.build_model("capstone", company_ticker="COST", rng=random.Random(5)))
    code, out = _run(capsys, str(path), "--activity", "capstone", "--json")
    data = json.loads(out)
    assert code == 0 and data["status"] == "passed"
    assert set(data) == {"status", "checks", "outputs"}
    assert set(data["outputs"]) == {"dcf_price_target", "comps_price_target", "final_price_target"}
    for check in data["checks"]:
        assert set(check) == {"id", "status", "findings"}


def test_failed_model_exits_1_with_located_findings(tmp_path, capsys):
    path = tmp_path / "a2.xlsx"
    path.write_bytes(templates.build_model("a2_wc_debt", company_ticker="COST", rng=random.Random(5),
                                           flaw="net_income_mismatch"))
    code, out = _run(capsys, str(path), "--activity", "a2_wc_debt", "--json")
    data = json.loads(out)
    assert code == 1 and data["status"] == "failed"
    failed = [c for c in data["checks"] if c["status"] == "failed"]
    assert [c["id"] for c in failed] == ["net_income_ties"]
    assert set(failed[0]["findings"][0]) == {"sheet", "cell", "period", "message", "expected", "actual"}


def test_rejected_file_exits_2_with_message(tmp_path, capsys):
    path = tmp_path / "memo.xlsx"
    path.write_bytes(templates.build_memo_pdf(["not a workbook"]))
    code, out = _run(capsys, str(path), "--activity", "a1_drivers_map", "--json")
    data = json.loads(out)
    assert code == 2 and data["status"] == "rejected" and "memo.xlsx" in data["message"]


def test_text_output_lists_findings(tmp_path, capsys):
    path = tmp_path / "a1.xlsx"
    path.write_bytes(templates.build_model("a1_drivers_map", company_ticker="BUD", rng=random.Random(5),
                                           flaw="revenue_mismatch"))
    code, out = _run(capsys, str(path), "--activity", "a1_drivers_map")
    assert code == 1 and "[failed ] revenue_build" in out and "FY2026E" in out
