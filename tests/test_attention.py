"""The home page's definitions: awaiting review, flagged feedback, at-risk students and
stale packages, each checked against hand-made rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core import attention, pseudonyms
from core.db import session_scope
from core.models import (
    LearningCompany,
    LearningFeedback,
    LearningPackage,
    LearningProgress,
    LearningSubmission,
    Student,
)
from tests.support import staff_actor

TODAY = date(2026, 11, 20)
AT = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _student(session, n, *, last_active, capstone=False):
    student = Student(email=f"s{n}@students.example", full_name=f"Student {n}", cohort="2026-fall")
    session.add(student)
    session.flush()
    session.add(LearningProgress(user_id=student.id, last_activity_date=last_active, capstone_submitted=capstone,
                                 current_activity="a2_wc_debt"))
    return student


def _submission(session, student, company, version, *, latest, reviewed=False, status="passed"):
    sub = LearningSubmission(
        user_id=student.id, company_id=company.id, activity_id="a1_drivers_map", module="business_foundations",
        submission_type="excel", version=version, file_path=f"submissions/{student.id}/a1/{version}.xlsx",
        file_name="x.xlsx", validator_status=status, is_latest=latest, created_at=AT + timedelta(hours=version),
        reviewed_at=AT + timedelta(days=2) if reviewed else None)
    session.add(sub)
    session.flush()
    return sub


def test_each_section_counts_what_its_definition_says(seeded_engine):
    actor = staff_actor(seeded_engine, "instructor")
    with session_scope(seeded_engine) as session:
        companies = {c.ticker: c for c in session.query(LearningCompany)}
        lapsed = _student(session, 1, last_active=TODAY - timedelta(days=7))
        _student(session, 2, last_active=TODAY - timedelta(days=6))  # active recently
        _student(session, 3, last_active=TODAY - timedelta(days=30), capstone=True)  # finished
        _student(session, 4, last_active=None)  # never started: not "at risk", just not started
        _submission(session, lapsed, companies["TSLA"], 1, latest=False)  # an old version: not counted
        waiting = _submission(session, lapsed, companies["TSLA"], 2, latest=True, status="failed")
        other = _student(session, 5, last_active=TODAY)
        done = _submission(session, other, companies["KO"], 1, latest=True, reviewed=True)
        session.add(LearningFeedback(submission_id=done.id, user_id=other.id, feedback_type="rubric",
                                     feedback_text="Good.", is_flagged=True, flag_reason="Too generous.",
                                     flagged_at=AT, release_state="held"))
        session.add(LearningFeedback(submission_id=done.id, user_id=other.id, feedback_type="rubric",
                                     feedback_text="Fine.", release_state="released"))
        for ticker in companies:
            if ticker not in ("GE", "GSBD", "KO"):
                session.add(LearningPackage(company_id=companies[ticker].id, version=1, package_date=date(2026, 6, 30),
                                            file_path=f"learning-packages/{ticker}_v1.xlsx", is_current=True))
        session.add(LearningPackage(company_id=companies["GE"].id, version=1, package_date=date(2025, 6, 30),
                                    file_path="learning-packages/GE_v1.xlsx", is_current=True))
        companies["KO"].is_active = False  # no package, but inactive: not listed

    with session_scope(seeded_engine) as session:
        summary = attention.summary(session, actor=actor, today=TODAY)
    review = summary["awaiting_review"]
    assert review["count"] == 1 and review["items"][0]["submission_id"] == waiting.id
    assert review["by_status"] == {"failed": 1}
    assert review["items"][0]["activity"] == "Drivers map for your company"
    assert summary["flagged_feedback"]["count"] == 1 and summary["flagged_feedback"]["held"] == 1
    risk = summary["at_risk"]
    # Instructors see the alias every page shows them, never the name.
    assert risk["count"] == 1 and risk["items"][0]["student"] == pseudonyms.alias(lapsed.id, "instructor")
    assert risk["items"][0]["days_inactive"] == 7 and risk["by_cohort"] == {"2026-fall": 1}
    stale = summary["stale_packages"]
    assert [i["ticker"] for i in stale["items"]] == ["GSBD", "GE"]  # missing first, then oldest
    assert stale["items"][0]["problem"] == "no package yet"


def test_empty_database_counts_nothing_but_missing_packages(seeded_engine):
    actor = staff_actor(seeded_engine, "program_lead")
    with session_scope(seeded_engine) as session:
        summary = attention.summary(session, actor=actor, today=TODAY)
    assert [summary[k]["count"] for k in ("awaiting_review", "flagged_feedback", "at_risk")] == [0, 0, 0]
    assert summary["stale_packages"]["count"] == 10
