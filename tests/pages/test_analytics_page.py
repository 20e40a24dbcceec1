"""The analytics page renders for every staff role, hides names from instructors and
offers the at-risk list as CSV."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from benchmarks import cohort
from core import telemetry
from core.db import session_scope
from tests.support import SETUP_ADMIN, app_test


@pytest.fixture
def cohort_db(seeded_engine, db_url, tmp_path):
    with session_scope(seeded_engine) as session:
        ids = cohort.create_students(session, 60)
        companies = cohort.company_ids(session)
        cohort.create_submissions(session, ids, companies)
    path = tmp_path / "cohort.jsonl"
    cohort.write_events(path, ids, events=2500, days=120, end=date.today() - timedelta(days=3),
                        company_ids=companies)
    with session_scope(seeded_engine) as session:
        telemetry.import_events(session, path, actor=SETUP_ADMIN)
    return db_url


def _texts(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.subheader]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("role", ["admin", "program_lead", "instructor"])
def test_page_renders_every_chart_for_each_role(cohort_db, monkeypatch, role):
    at = app_test(cohort_db, monkeypatch, role=role, page="analytics")
    at.run()
    assert not at.exception
    assert [s.value for s in at.subheader] == [
        "Active students", "Activity funnel", "Weekly retention by first-activity week",
        "Time invested against outcomes", "Streaks", "Validator failure hotspots", "At risk",
    ]
    assert len(at.get("plotly_chart")) >= 6
    table = at.dataframe[-1].value
    assert len(table) > 0
    if role != "admin":  # program leads too: aliases everywhere
        assert "email" not in table.columns
        assert table["student"].str.match(r"^Analyst [0-9A-F]{6}$").all()
        assert "pseudonym" in _texts(at)
    else:
        assert table["email"].str.endswith("@cohort.example").all()
    assert at.get("download_button")


def test_filters_narrow_the_figures(cohort_db, monkeypatch):
    at = app_test(cohort_db, monkeypatch, role="admin", page="analytics")
    at.run()
    everyone = len(at.dataframe[-1].value)
    at.selectbox(key="an_cohort").set_value("2026-fall").run()
    assert not at.exception
    fall = at.dataframe[-1].value if at.dataframe else []
    assert 0 < len(fall) < everyone
    assert set(fall["cohort"]) == {"2026-fall"}


def test_empty_database_shows_guidance(seeded_engine, db_url, monkeypatch):
    at = app_test(db_url, monkeypatch, role="program_lead", page="analytics")
    at.run()
    assert not at.exception
    assert any("ngi telemetry import" in i.value for i in at.info)


def test_signed_out_visitor_gets_the_sign_in_form(db_url, monkeypatch):
    at = app_test(db_url, monkeypatch, role=None, page="analytics")
    at.run()
    assert not at.exception
    assert not at.subheader
    assert at.text_input(key="sign_in_email")
