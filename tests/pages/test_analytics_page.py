"""The analytics page: every view renders for every staff role with names for admins
only; drill-down lists and their exports; the at-risk nudge is recorded and shown in
the student's timeline; the headline names the latest complete day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from benchmarks import cohort
from core import active_users, drilldown, telemetry
from core.db import session_scope
from core.models import AuditLog
from tests.support import SETUP_ADMIN, app_test

VIEWS = {"Active students": "Active students", "Activity funnel": "Activity funnel",
         "Retention": "Weekly retention by first-activity week", "Time and outcomes": "Time invested against outcomes",
         "Streaks": "Streaks", "Failure hotspots": "Validator failure hotspots", "At risk": "At risk"}


@pytest.fixture
def cohort_db(seeded_engine, db_url, tmp_path):
    with session_scope(seeded_engine) as session:
        ids = cohort.create_students(session, 60)
        companies = cohort.company_ids(session)
        cohort.create_submissions(session, ids, companies)
    path = tmp_path / "cohort.jsonl"
    cohort.write_events(path, ids, events=2500, days=120, end=date.today() - timedelta(days=3),
                        company_ids=companies)
    telemetry.import_events(seeded_engine, path, actor=SETUP_ADMIN)
    return db_url


def _texts(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.subheader]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("role", ["admin", "program_lead", "instructor"])
def test_every_view_renders_for_each_role(cohort_db, monkeypatch, role):
    at = app_test(cohort_db, monkeypatch, role=role, page="analytics")
    at.run()
    assert not at.exception
    assert "latest complete day" in _texts(at)
    assert [m.label for m in at.metric][:4] == ["DAU", "WAU", "MAU", "Stickiness"]
    for view, heading in list(VIEWS.items())[1:]:
        at.segmented_control(key="an_view").set_value(view).run()
        assert not at.exception, view
        assert [s.value for s in at.subheader] == [heading]
    table = at.dataframe[0].value  # the at-risk students
    assert len(table) > 0
    if role != "admin":
        assert "email" not in table.columns and "user_id" not in table.columns
        assert table["student"].str.match(r"^Analyst [0-9A-F]{6}$").all()
        assert "pseudonym" in _texts(at)
        assert not at.multiselect  # no nudge without emails
    else:
        assert table["email"].str.endswith("@cohort.example").all()


def test_funnel_step_drills_down_to_students_and_exports(cohort_db, monkeypatch):
    at = app_test(cohort_db, monkeypatch, role="program_lead", page="analytics")
    at.run()
    at.segmented_control(key="an_view").set_value("Activity funnel").run()
    steps = at.dataframe[0].value
    at.selectbox(key="an_funnel_step").set_value(1).run()
    assert not at.exception
    listed = at.dataframe[1].value
    assert len(listed) == steps.iloc[0]["students"] > 0
    assert set(listed.columns) >= {"student", "last_active", "streak_days", "completion_percentage",
                                   "validator_status"}
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["CSV", "Excel"]


def test_active_day_drills_down_to_dau(cohort_db, seeded_engine, monkeypatch):
    at = app_test(cohort_db, monkeypatch, role="admin", page="analytics")
    at.run()
    picker = at.selectbox(key="an_active_day")
    picker.set_value(date.today() - timedelta(days=2)).run()  # after the cohort's last event
    assert any("No students behind" in i.value for i in at.info)
    # The busiest day on the chart: its DAU students are listed.
    at.segmented_control(key="an_view").set_value("Active students").run()
    picker = at.selectbox(key="an_active_day")
    with session_scope(seeded_engine) as session:
        frame = active_users.active_students(session, actor=SETUP_ADMIN)
    busiest = frame.sort_values("dau").iloc[-1]
    picker.set_value(busiest["day"]).run()
    assert not at.exception
    assert f"**{busiest['dau']} student(s) behind 1-day actives" in _texts(at)


def test_nudge_is_recorded_and_shown_in_the_timeline(cohort_db, seeded_engine, monkeypatch):
    at = app_test(cohort_db, monkeypatch, role="admin", page="analytics")
    at.run()
    at.segmented_control(key="an_view").set_value("At risk").run()
    with session_scope(seeded_engine) as session:
        first = drilldown.at_risk_ids(session, actor=SETUP_ADMIN)[0]
    at.multiselect(key="an_nudge_pick").set_value([first]).run()
    assert "mailto:?bcc=" in at.code[0].value
    at.button(key="an_nudge_record").click().run()
    assert not at.exception
    with session_scope(seeded_engine) as session:
        nudges = session.scalars(select(AuditLog).where(AuditLog.action == drilldown.NUDGE_ACTION)).all()
        assert [n.target_id for n in nudges] == [str(first)]
        line = drilldown.timeline(session, actor=SETUP_ADMIN, user_id=int(nudges[0].target_id))
    assert "nudge" in set(line["kind"])


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


def test_streak_bar_drills_down(cohort_db, monkeypatch):
    at = app_test(cohort_db, monkeypatch, role="instructor", page="analytics")
    at.run()
    at.segmented_control(key="an_view").set_value("Streaks").run()
    at.selectbox(key="an_streak_pick").set_value(("current", "0")).run()
    assert not at.exception
    listed = at.dataframe[-1].value
    assert len(listed) > 0 and (listed["streak_days"] == 0).all()
    assert listed["student"].str.match(r"^Analyst [0-9A-F]{6}$").all()


def test_time_bucket_drills_down_to_the_students_it_counts(cohort_db, monkeypatch):
    at = app_test(cohort_db, monkeypatch, role="admin", page="analytics")
    at.run()
    at.segmented_control(key="an_view").set_value("Time and outcomes").run()
    outcomes = at.dataframe[0].value
    first = outcomes.iloc[0]
    at.selectbox(key="an_outcomes_pick").set_value(first["time_invested"]).run()
    assert not at.exception
    assert len(at.dataframe[-1].value) == first["students"]


def _select(at, key: str, points: list[dict]) -> None:
    """What st.plotly_chart returns after a click or box selection (AppTest cannot click plotly)."""
    at.session_state[key] = {"selection": {"points": points, "point_indices": [], "box": [], "lasso": []}}


def test_selected_time_buckets_list_their_students_together(cohort_db, seeded_engine, monkeypatch):
    at = app_test(cohort_db, monkeypatch, role="admin", page="analytics")
    at.run()
    at.segmented_control(key="an_view").set_value("Time and outcomes").run()
    outcomes = at.dataframe[0].value
    buckets = list(outcomes["time_invested"][:2])
    _select(at, "an_outcomes_chart", [{"x": b, "curve_number": 0, "point_index": i} for i, b in enumerate(buckets)])
    at.run()
    assert not at.exception
    listed = at.dataframe[-1].value
    assert len(listed) == outcomes["students"][:2].sum() > 0  # a student sits in one bucket
    assert f"student(s) behind {', '.join(buckets)} invested" in _texts(at)


def test_clicked_hotspot_lists_the_students_who_failed_it(cohort_db, seeded_engine, monkeypatch):
    at = app_test(cohort_db, monkeypatch, role="program_lead", page="analytics")
    at.run()
    at.segmented_control(key="an_view").set_value("Failure hotspots").run()
    hotspots = at.dataframe[0].value
    first = hotspots.iloc[0]
    _select(at, "an_hotspot_chart", [{"y": "ignored", "customdata": [first["check_id"], first["activity"]]}])
    at.run()
    assert not at.exception
    listed = at.dataframe[-1].value
    with session_scope(seeded_engine) as session:
        failing = drilldown.hotspot_ids(session, actor=SETUP_ADMIN, check_id=first["check_id"],
                                        activity=first["activity"])
    assert len(listed) == len(failing) > 0
    assert listed["student"].str.match(r"^Analyst [0-9A-F]{6}$").all()
