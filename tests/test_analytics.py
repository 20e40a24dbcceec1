"""Cohort analytics: the funnel's order rule, rollup queries agreeing with raw-event
queries on a generated cohort, hotspots, the at-risk list and who may see names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from benchmarks import baselines, cohort
from core import analytics, telemetry
from core.access import Actor
from core.db import session_scope
from core.errors import Forbidden
from core.models import LearningSubmission, Student
from tests.support import SETUP_ADMIN

ADMIN = Actor(id=None, email="a@x", display_name="Admin", role="admin")
LEAD = Actor(id=None, email="l@x", display_name="Lead", role="program_lead")
INSTRUCTOR = Actor(id=None, email="i@x", display_name="Instructor", role="instructor")
T0 = datetime(2026, 10, 5, 14, tzinfo=UTC)


@pytest.fixture
def students(seeded_engine):
    with session_scope(seeded_engine) as session:
        for i, name in enumerate(["Ada", "Grace", "Alan", "Edsger"], start=1):
            session.add(Student(id=i, email=f"{name.lower()}@example.edu", full_name=name,
                                cohort="north" if i <= 2 else "south"))
    return seeded_engine


def _events(engine, user_id, *steps, activity="a1_drivers_map", start=T0):
    with session_scope(engine) as session:
        for n, step in enumerate(steps):
            lesson = "l2_revenue_drivers" if step == "lesson_view" else None
            telemetry.record_event(session, user_id=user_id, event_type=step, lesson=lesson,
                                   activity=None if lesson else activity,
                                   event_timestamp=start + timedelta(minutes=5 * n))


def _step_counts(frame, activity="a1_drivers_map"):
    rows = frame[frame["activity"] == activity].sort_values("step_index")
    return list(rows["students"]), list(rows["any_order"])


def test_funnel_counts_each_student_once_and_in_order(students):
    # Ada walks the whole funnel (twice over: still counted once per step).
    _events(students, 1, "lesson_view", "activity_start", "submission", "validator_pass", "feedback_issued",
            "lesson_view", "submission")
    # Grace submitted and passed without a recorded lesson_view: no ordered step at all.
    _events(students, 2, "activity_start", "submission", "validator_pass")
    # Alan started before reading the lesson and never started again after it.
    _events(students, 3, "activity_start", "lesson_view", "submission")
    with session_scope(students) as session:
        frame = analytics.funnel(session, actor=ADMIN)
        raw = baselines.raw_funnel(session)
    in_order, any_order = _step_counts(frame)
    assert in_order == [2, 1, 1, 1, 1]
    assert any_order == [2, 3, 3, 2, 1]
    assert list(frame["label"][:5]) == ["Lesson viewed", "Activity started", "Submitted", "Validators passed",
                                        "Feedback issued"]
    assert frame.equals(raw)


@pytest.fixture
def generated(students, tmp_path):
    """A generated cohort imported through the JSON Lines path, with submissions."""
    with session_scope(students) as session:
        ids = cohort.create_students(session, 120, first_id=100)
        companies = cohort.company_ids(session)
        cohort.create_submissions(session, ids, companies)
    path = tmp_path / "cohort.jsonl"
    cohort.write_events(path, ids, events=6000, days=90, end=date(2026, 11, 20), company_ids=companies)
    result = telemetry.import_events(students, path, actor=SETUP_ADMIN)
    assert result.accepted > 3000 and not result.errors
    return students


FILTER_SETS = [
    analytics.Filters(),
    analytics.Filters(cohort="2026-fall"),
    analytics.Filters(module="accounting_i", start=date(2026, 9, 1), end=date(2026, 10, 31)),
]


@pytest.mark.parametrize("filters", FILTER_SETS, ids=["all", "cohort", "module+dates"])
def test_rollup_and_raw_queries_agree(generated, filters):
    with session_scope(generated) as session:
        for name in ("active_students", "funnel", "retention"):
            fast = getattr(analytics, name)(session, actor=ADMIN, filters=filters)
            slow = getattr(baselines, f"raw_{name}")(session, filters)
            assert not fast.empty or name == "funnel"
            assert fast.equals(slow), name


def test_active_students_figures(generated):
    with session_scope(generated) as session:
        frame = analytics.active_students(session, actor=ADMIN)
    # Trailing windows nest: everyone active today was active this week and this month.
    assert (frame["dau"] <= frame["wau"]).all() and (frame["wau"] <= frame["mau"]).all()
    assert frame["mau"].max() > 0
    assert frame["stickiness"].dropna().between(0, 1).all()


def test_retention_starts_at_full_cohort(generated):
    with session_scope(generated) as session:
        frame = analytics.retention(session, actor=ADMIN)
    first_weeks = frame[frame["week"] == 0]
    assert (first_weeks["retention"] == 100).all()
    assert (frame["retention"] <= 100).all() and (frame["week"] >= 0).all()


def test_time_vs_outcomes_and_streaks(generated):
    with session_scope(generated) as session:
        outcomes = analytics.time_vs_outcomes(session, actor=ADMIN)
        streaks = analytics.streak_distribution(session, actor=ADMIN, on=date(2026, 11, 21))
    assert outcomes["students"].sum() > 0
    assert outcomes["pass_rate"].between(0, 1).all()
    assert set(streaks["kind"]) == {"current", "longest"}
    longest = streaks[streaks["kind"] == "longest"]["students"].sum()
    current = streaks[streaks["kind"] == "current"]["students"].sum()
    assert longest == current > 0


def _submission(session, user_id, activity, report, company_id=1):
    """A validated submission and the telemetry event the submission service writes."""
    row = LearningSubmission(
        user_id=user_id, company_id=company_id, activity_id=activity, module="accounting_i",
        submission_type="excel", version=session.info.setdefault("v", 0) + 1, file_path="x.xlsx",
        file_name="x.xlsx", validator_status=report["status"], validator_errors=report.get("flat", report),
        is_latest=False,
    )
    session.info["v"] += 1
    session.add(row)
    session.flush()
    telemetry.record_event(session, user_id=user_id, event_type=f"validator_{report['status'][:4]}",
                           activity=activity, company_id=company_id, submission_id=row.id)


def test_failure_hotspots_count_failed_checks(students):
    failing = {"status": "failed", "checks": [
        {"id": "bs_balances", "status": "failed", "findings": [{"sheet": "Balance Sheet", "cell": "D40"}]},
        {"id": "cash_ties", "status": "passed", "findings": []},
    ]}
    both = {"status": "failed", "checks": [{"id": "bs_balances", "status": "failed", "findings": []},
                                           {"id": "cash_ties", "status": "failed", "findings": []}]}
    # What core.submissions stores: the report's findings as a flat list.
    flat = [{"check": "bs_balances", "sheet": "Balance Sheet", "cell": "D40", "message": "off by 3"},
            {"check": "bs_balances", "sheet": "Balance Sheet", "cell": "E40", "message": "off by 4"}]
    with session_scope(students) as session:
        _submission(session, 1, "a2_wc_debt", failing)
        _submission(session, 2, "a2_wc_debt", {"status": "failed", "flat": flat})
        _submission(session, 1, "a2_wc_debt", both)
        _submission(session, 2, "a2_wc_debt", failing, company_id=2)
        _submission(session, 3, "a2_wc_debt", {"status": "passed", "checks": [
            {"id": "bs_balances", "status": "passed", "findings": []}]})
    with session_scope(students) as session:
        frame = analytics.failure_hotspots(session, actor=ADMIN)
        north = analytics.failure_hotspots(session, actor=ADMIN, filters=analytics.Filters(cohort="north", company_id=1))
    rows = {(r.check_id, r.company): (r.failures, r.students) for r in frame.itertuples()}
    assert rows[("bs_balances", "TSLA")] == (3, 2)  # Ada twice, Grace's flat list once
    assert rows[("cash_ties", "TSLA")] == (1, 1)
    assert ("bs_balances", "COST") in rows
    assert frame.iloc[0]["check_id"] == "bs_balances"
    assert set(north["company"]) == {"TSLA"}
    # Rows inserted behind the services' back (the demo cohort) appear after a rebuild.
    with session_scope(students) as session:
        session.add(LearningSubmission(
            user_id=4, company_id=3, activity_id="capstone", module="finance_valuation", submission_type="excel",
            version=1, file_path="y.xlsx", file_name="y.xlsx", validator_status="failed", is_latest=True,
            validator_errors={"status": "failed", "checks": [{"id": "price_targets", "status": "failed"}]}))
    with session_scope(students) as session:
        assert "price_targets" not in set(analytics.failure_hotspots(session, actor=ADMIN)["check_id"])
        telemetry.rebuild_rollup(session)
        assert "price_targets" in set(analytics.failure_hotspots(session, actor=ADMIN)["check_id"])


def test_at_risk_list_count_and_identities(students):
    today = date(2026, 11, 20)
    _events(students, 1, "lesson_view", start=datetime(2026, 11, 1, 15, tzinfo=UTC))  # 19 days silent
    _events(students, 2, "lesson_view", start=datetime(2026, 11, 18, 15, tzinfo=UTC))  # recent
    _events(students, 3, *["validator_pass"] * 1, activity="a1_drivers_map",
            start=datetime(2026, 10, 1, 15, tzinfo=UTC))
    with session_scope(students) as session:
        for activity in ("a2_wc_debt", "capstone"):  # Alan finished everything, then went quiet
            telemetry.record_event(session, user_id=3, event_type="validator_pass", activity=activity,
                                   event_timestamp=datetime(2026, 10, 1, 16, tzinfo=UTC))
    with session_scope(students) as session:
        full = analytics.at_risk(session, actor=ADMIN, on=today)
        masked = analytics.at_risk(session, actor=INSTRUCTOR, on=today)
        lead = analytics.at_risk(session, actor=LEAD, on=today)
        count = analytics.at_risk_count(session, actor=INSTRUCTOR, on=today)
        csv = analytics.at_risk_csv(session, actor=ADMIN, on=today).decode("utf-8-sig")
    assert list(full["student"]) == ["Ada"]
    assert full.iloc[0]["days_inactive"] == 19
    assert full.iloc[0]["current_unit"] == "unit_1_systems_thinking"
    assert count == 1
    for aliased in (masked, lead):  # program leads too see aliases, never names
        assert "email" not in aliased.columns and aliased.iloc[0]["student"].startswith("Analyst ")
        assert "ada" not in aliased.to_csv().lower()
    assert csv.splitlines()[0].startswith("student,email,user_id")
    assert "ada@example.edu" in csv


def test_analytics_needs_the_capability(students):
    stranger = Actor(id=None, email="x@x", display_name="X", role="student")
    with session_scope(students) as session:
        with pytest.raises(Forbidden):
            analytics.active_students(session, actor=stranger)
        with pytest.raises(Forbidden):
            analytics.at_risk_count(session, actor=None)
