"""Curriculum YAML: export, import into a fresh database, export again — byte-identical;
an import with problems reports every one with its path and changes nothing."""

from __future__ import annotations

import shutil

import pytest
import yaml

from core import authoring, content_tree, curriculum
from core.db import make_engine, read_scope, session_scope
from core.rules import ActivityRules, Check, Criterion, PdfContent, PdfRequirements
from tests.support import staff_actor
from tests.test_cli import ngi


def _export(engine, actor) -> str:
    with read_scope(engine) as s:
        return curriculum.export_yaml(s, actor=actor)


def test_round_trip_into_a_fresh_database_is_byte_identical(seeded_engine, tmp_path, _sqlite_template):
    admin = staff_actor(seeded_engine, "admin")
    # make the tree carry everything the file must hold: a body, rules with parameters, edges, archive
    authoring.create_node(seeded_engine, actor=admin, kind="lesson", key="l10_lbo", title="Leveraged buyouts",
                          parent_key="unit_4_valuation", body="# LBO\n\n* debt\n* equity — 60/40", minutes=35,
                          difficulty="advanced", objectives=["Size the debt"])
    authoring.set_rules(seeded_engine, actor=admin, key="capstone", rules=ActivityRules(
        required_sheets=("Valuation",), checks=(Check("bs_balances", (("tolerance", 0.5),)),),
        criteria=(Criterion("accuracy", "Ties.", 0.6, (1, 4)), Criterion("reasoning", "Why.", 0.4)),
        submission_types=("excel", "pdf_memo"), blind_marking=True,
        pdf=PdfRequirements(content=(("pdf_memo", PdfContent(450, ("thesis", "risks"), True)),))))
    authoring.set_prerequisites(seeded_engine, actor=admin, key="capstone", requires=["l10_lbo", "a2_wc_debt"])
    authoring.archive_node(seeded_engine, actor=admin, key="l1_business_model")
    first = _export(seeded_engine, admin)

    fresh_path = tmp_path / "fresh.db"
    shutil.copy(_sqlite_template, fresh_path)
    fresh = make_engine(f"sqlite:///{fresh_path}")
    fresh_admin = staff_actor(fresh, "admin")
    report = curriculum.import_yaml(fresh, actor=fresh_admin, text=first)
    assert report.applied and report.problems == [] and len(report.created) == 20
    second = _export(fresh, fresh_admin)
    assert second == first
    with read_scope(fresh) as s:
        tree = content_tree.current(s)
        assert tree.prerequisites("capstone") == ("l10_lbo", "a2_wc_debt")
        rules = tree.rules("capstone")
        assert rules.blind_marking and tree.node("l1_business_model").archived
        assert rules.pdf.for_type("pdf_memo") == PdfContent(450, ("thesis", "risks"), True)
    fresh.dispose()


def test_an_import_with_problems_names_each_and_changes_nothing(seeded_engine):
    admin = staff_actor(seeded_engine, "admin")
    doc = yaml.safe_load(_export(seeded_engine, admin))
    unit_1 = doc["modules"][0]["children"][0]
    activity = unit_1["children"][2]
    activity["rules"]["checks"].append("spell_check")
    activity["rules"]["criteria"][0]["weight"] = 0.1
    unit_1["children"][1]["key"] = "l1_business_model"  # duplicate
    doc["modules"][1]["children"][0]["children"][0]["prerequisites"] = ["l5_cash_flow"]  # l3 → l5 → l4 → l3
    before = _export(seeded_engine, admin)
    report = curriculum.import_yaml(seeded_engine, actor=admin, text=yaml.safe_dump(doc, sort_keys=False))
    lines = report.lines()
    assert not report.applied
    assert any(line.startswith("modules[0].children[0].children[2] (a1_drivers_map).rules.checks[3]: unknown check "
                               "'spell_check'") for line in lines), lines
    assert any("a1_drivers_map).rules.criteria: weights add up to 70%, not 100%" in line for line in lines), lines
    assert any(line.startswith("modules[0].children[0].children[1].key: duplicate key 'l1_business_model' (also at "
                               "modules[0].children[0].children[0])") for line in lines), lines
    assert any("cycle: The income statement → The cash-flow statement → The balance sheet → The income statement"
               in line for line in lines), lines
    assert _export(seeded_engine, admin) == before


def test_the_cli_exports_checks_and_imports(seeded_engine, tmp_path):
    url = seeded_engine.url.render_as_string(hide_password=False)
    out = tmp_path / "curriculum.yaml"
    result = ngi("content", "export", "--out", str(out), db_url=url)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "key: capstone" in text
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("- no_error_values", "- no_such_check", 1))
    result = ngi("content", "import", str(broken), db_url=url)
    assert result.returncode == 1 and "unknown check 'no_such_check'" in result.stderr
    assert "nothing was changed" in result.stderr
    edited = tmp_path / "edited.yaml"
    edited.write_text(text.replace("title: Trading comparables", "title: Comparable companies"))
    result = ngi("content", "import", str(edited), "--dry-run", db_url=url)
    assert result.returncode == 0 and "would change 1" in result.stdout, result.stdout + result.stderr
    result = ngi("content", "import", str(edited), db_url=url)
    assert result.returncode == 0 and "changed 1" in result.stdout, result.stderr
    with session_scope(seeded_engine) as s:
        assert content_tree.current(s).node("l9_comparables").title == "Comparable companies"


@pytest.mark.parametrize("text, message", [("modules: [", "not valid YAML"), ("- a", "`modules` list")])
def test_unreadable_files_are_reported(text, message):
    _, problems = curriculum.parse(text)
    assert message in problems[0][1]
