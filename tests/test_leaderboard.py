"""The leaderboard's privacy rules: anonymized entries, no entries (or stats) for small
companies to non-admins, identities never leave core for non-admins, reveals audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import leaderboard, review
from core.db import session_scope
from core.errors import Forbidden, Invalid
from core.models import AuditLog, LearningCompany, LearningLeaderboard, LearningSubmission, Student, ValidatorRun
from tests.support import staff_actor


def _add_entries(engine, ticker: str, targets: list[float]) -> None:
    with session_scope(engine) as session:
        company = session.scalar(select(LearningCompany).where(LearningCompany.ticker == ticker))
        for i, target in enumerate(targets):
            student = Student(email=f"{ticker.lower()}{i}@students.example", full_name=f"Secret Name {ticker}{i}",
                              cohort="2026-spring")
            session.add(student)
            session.flush()
            sub = LearningSubmission(user_id=student.id, company_id=company.id, activity_id="capstone",
                                     module="finance_valuation", submission_type="excel", version=1,
                                     file_path=f"submissions/{student.id}/capstone/x.xlsx", file_name="x.xlsx",
                                     validator_status="passed", is_latest=True)
            session.add(sub)
            session.flush()
            outputs = {"dcf_price_target": round(target * 1.1, 2), "comps_price_target": round(target * 0.9, 2),
                       "final_price_target": float(target)}
            session.add(ValidatorRun(submission_id=sub.id, status="passed",
                                     report={"status": "passed", "checks": [], "outputs": outputs}))
            session.add(LearningLeaderboard(
                user_id=student.id, company_id=company.id, submission_id=sub.id, valuation_date=date(2026, 11, 1),
                anonymous_id=f"Analyst_{i:06X}", dcf_price_target=Decimal(str(target * 1.1)),
                comps_price_target=Decimal(str(target * 0.9)), final_price_target=Decimal(str(target))))


@pytest.fixture
def board_engine(seeded_engine):
    _add_entries(seeded_engine, "TSLA", [200, 220, 250, 260, 300, 310])
    _add_entries(seeded_engine, "KO", [60, 70])
    return seeded_engine


def _board(engine, role):
    actor = staff_actor(engine, role)
    with session_scope(engine) as session:
        return leaderboard.board(session, actor=actor)


@pytest.mark.parametrize("role", ["instructor", "program_lead"])
def test_non_admins_get_anonymized_entries_and_nothing_for_small_companies(board_engine, role):
    data = _board(board_engine, role)
    stats = {s["ticker"]: s for s in data["companies"]}
    assert stats["TSLA"]["count"] == 6 and stats["TSLA"]["median"] == 255.0
    assert stats["TSLA"]["q1"] == pytest.approx(227.5) and stats["TSLA"]["spread"] == pytest.approx(62.5)
    assert stats["KO"] == dict(stats["KO"], count=2, suppressed=True, median=None, spread=None)
    assert {e["ticker"] for e in data["entries"]} == {"TSLA"}
    text = repr(data)
    assert "Secret Name" not in text and "students.example" not in text
    assert all(set(e) == {"ticker", "anonymous_id", "dcf_price_target", "comps_price_target",
                          "final_price_target", "valuation_date"} for e in data["entries"])
    # Program leads may reveal no identity anywhere, so they get no id to link (see below).
    assert all((e["anonymous_id"] is None) == (role == "program_lead") for e in data["entries"])
    with pytest.raises(Forbidden):
        leaderboard.reveal_identities(board_engine, actor=staff_actor(board_engine, role), ticker="KO", reason="curious")


def test_admins_see_small_companies_and_reveals_are_audited(board_engine):
    data = _board(board_engine, "admin")
    assert {e["ticker"] for e in data["entries"]} == {"TSLA", "KO"}
    assert "Secret Name" not in repr(data)  # the board itself stays anonymized for admins too
    admin = staff_actor(board_engine, "admin")
    with pytest.raises(Invalid, match="reason"):
        leaderboard.reveal_identities(board_engine, actor=admin, ticker="KO", reason=" ")
    people = leaderboard.reveal_identities(board_engine, actor=admin, ticker="ko", reason="awarding the prize")
    assert [p["student"] for p in people] == ["Secret Name KO1", "Secret Name KO0"]  # highest target first
    with session_scope(board_engine) as session:
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "leaderboard.reveal"))
        assert (entry.actor_email, entry.target_id) == (admin.email, "KO")
        assert entry.details == {"reason": "awarding the prize", "entries": 2}


def test_no_entries_lists_companies_with_zero_counts(seeded_engine):
    data = _board(seeded_engine, "instructor")
    assert len(data["companies"]) == 10 and data["entries"] == []
    assert all(s["count"] == 0 and not s["suppressed"] for s in data["companies"])


def _join_review_to_board(engine, role) -> dict[tuple, tuple]:
    """The probe from issue 10: join the review detail's price targets to the board's."""
    actor = staff_actor(engine, role)
    with session_scope(engine) as session:
        board = leaderboard.board(session, actor=actor)
        details = [review.detail(session, actor=actor, submission_id=row["id"]) for row in review.queue(session, actor=actor)]
    by_target = {(e["ticker"], e["final_price_target"]): e["anonymous_id"] for e in board["entries"]}
    links = {}
    for d in details:
        target = ((d["report"] or {}).get("outputs") or {}).get("final_price_target")
        anonymous_id = by_target.get((d["company"], target))
        if target is not None and anonymous_id is not None:
            links[(d["company"], anonymous_id)] = (d["student_id"], d["student"])
    return links


def test_program_leads_cannot_link_leaderboard_entries_to_students(board_engine):
    # The probe works: an admin (who may reveal anyway) links every entry to its student.
    admin_links = _join_review_to_board(board_engine, "admin")
    assert len(admin_links) == 8 and all(student_id for student_id, _ in admin_links.values())
    # A program lead, through the same services, finds nothing to link.
    assert _join_review_to_board(board_engine, "program_lead") == {}
    lead = staff_actor(board_engine, "program_lead")
    with session_scope(board_engine) as session:
        rows = review.queue(session, actor=lead)
        detail = review.detail(session, actor=lead, submission_id=rows[0]["id"])
    assert all(r["student_id"] is None for r in rows) and detail["student_id"] is None
    assert detail["report"]["outputs"] == {}
