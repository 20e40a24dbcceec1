"""The demo cohort: reproducible with a seed, every table filled, rows consistent, and
never generated outside demo mode."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from core import demo
from core.db import Base, session_scope
from core.errors import Forbidden
from core.models import (
    LearningFeedback, LearningLeaderboard, LearningProgress, LearningSubmission, LearningTelemetry, StaffUser,
    Student,
)
from core.storage import storage_for
from tests.support import truncate_all

TODAY = date(2026, 11, 20)
N = 30
# Filled only by `ngi telemetry import` (idempotency keys of imported events).
NOT_DEMO_TABLES = {"learning_telemetry_keys"}
# core.rollup.refresh_submissions reads validator_errors as a report ({checks: [...]}),
# but core.submissions stores the report's flat error list ([{check, sheet, ...}]), as
# the demo does; until the two agree, this rollup stays empty. See the xfail below.
ROLLUP_CONTRACT_GAP = {"learning_check_failures"}


def _seed(engine, tmp_path, seed=7, students=N):
    return demo.seed_demo(engine, students=students, seed=seed, today=TODAY,
                          storage=storage_for(str(tmp_path / f"files{seed}")))


def _snapshot(engine) -> dict:
    """Rows that must repeat. Not file hashes: XlsxWriter stamps each file's creation time."""
    with session_scope(engine) as session:
        return dict(
            students=session.execute(select(Student.email, Student.full_name, Student.cohort)
                                     .order_by(Student.email)).all(),
            submissions=session.execute(
                select(Student.email, LearningSubmission.activity_id, LearningSubmission.version,
                       LearningSubmission.validator_status, LearningSubmission.validator_errors,
                       LearningSubmission.created_at)
                .join(Student, Student.id == LearningSubmission.user_id)
                .order_by(Student.email, LearningSubmission.activity_id, LearningSubmission.version)).all(),
            board=session.execute(select(Student.email, LearningLeaderboard.anonymous_id,
                                         LearningLeaderboard.final_price_target)
                                  .join(Student, Student.id == LearningLeaderboard.user_id)
                                  .order_by(Student.email)).all(),
            events=session.execute(select(LearningTelemetry.event_type, func.count())
                                   .group_by(LearningTelemetry.event_type)
                                   .order_by(LearningTelemetry.event_type)).all(),
        )


def test_same_seed_same_cohort_and_another_seed_differs(engine, tmp_path):
    _seed(engine, tmp_path)
    first = _snapshot(engine)
    truncate_all(engine)
    _seed(engine, tmp_path)
    assert _snapshot(engine) == first
    truncate_all(engine)
    _seed(engine, tmp_path, seed=8)
    other = _snapshot(engine)
    assert other["students"] != first["students"] and other["submissions"] != first["submissions"]


def test_every_table_is_filled_and_rows_are_consistent(engine, tmp_path):
    summary = _seed(engine, tmp_path)
    assert summary.students == N and summary.leaderboard > 0 and summary.feedback > 0
    with session_scope(engine) as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in NOT_DEMO_TABLES | ROLLUP_CONTRACT_GAP:
                assert session.scalar(select(func.count()).select_from(table)), f"{table.name} is empty"

        subs = list(session.scalars(select(LearningSubmission)))
        # versions 1..n per (student, activity), exactly one latest, the highest
        by_key: dict[tuple, list] = {}
        for s in subs:
            by_key.setdefault((s.user_id, s.activity_id), []).append(s)
        assert any(len(v) > 1 for v in by_key.values())
        for versions in by_key.values():
            versions.sort(key=lambda s: s.version)
            assert [s.version for s in versions] == list(range(1, len(versions) + 1))
            assert [s.is_latest for s in versions] == [False] * (len(versions) - 1) + [True]
        statuses = {s.validator_status for s in subs}
        assert statuses == {"passed", "failed"}
        for s in subs:
            assert (s.validator_status == "failed") == bool(s.validator_errors)
            assert s.validator_runs and s.validator_runs[0].report["status"] == s.validator_status

        for fb in session.scalars(select(LearningFeedback)):
            assert fb.submission.validator_status == "passed" and fb.user_id == fb.submission.user_id
            assert fb.openai_tokens_input and fb.openai_cost_usd > 0 if fb.provider == "openai" else True
            assert fb.release_state in ("held", "released") and 0 <= fb.rubric_composite <= 100

        anon = re.compile(r"^Analyst_[0-9A-F]{6}$")
        seen = set()
        for entry in session.scalars(select(LearningLeaderboard)):
            sub = entry.submission
            assert (sub.activity_id, sub.validator_status, sub.user_id, sub.company_id) == \
                ("capstone", "passed", entry.user_id, entry.company_id)
            assert anon.match(entry.anonymous_id) and (entry.company_id, entry.anonymous_id) not in seen
            seen.add((entry.company_id, entry.anonymous_id))
            assert entry.final_price_target > 0

        # telemetry references the student's own submissions; progress exists for everyone
        mismatched = session.scalar(
            select(func.count()).select_from(LearningTelemetry)
            .join(LearningSubmission, LearningSubmission.id == LearningTelemetry.submission_id)
            .where(LearningSubmission.user_id != LearningTelemetry.user_id))
        assert mismatched == 0
        assert session.scalar(select(func.count()).select_from(LearningProgress)) == N
        weekdays = session.execute(select(LearningTelemetry.event_timestamp)
                                   .where(LearningTelemetry.event_type == "session_start")).scalars().all()
        weekday_share = sum(ts.weekday() < 5 for ts in weekdays) / len(weekdays)
        assert weekday_share > 5 / 7  # the weekday rhythm shows
        assert all(ts.date() < TODAY for ts in weekdays)

        sample = subs[0]
    stored = storage_for(str(tmp_path / "files7"))
    import hashlib

    assert hashlib.sha256(stored.read_bytes(sample.file_path)).hexdigest() == sample.file_hash


@pytest.mark.xfail(strict=True, reason="rollup expects validator_errors as {checks: [...]}; submissions store "
                   "a flat list (core.validation.report.Report.errors)")
def test_failed_checks_rollup_is_filled_from_failed_submissions(engine, tmp_path):
    from core.models import ValidatorCheckFailure

    _seed(engine, tmp_path)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(ValidatorCheckFailure))


def test_if_empty_leaves_a_populated_database_alone(engine, tmp_path):
    _seed(engine, tmp_path)
    before = _snapshot(engine)
    skipped = demo.seed_demo(engine, students=5, seed=99, today=TODAY, if_empty=True,
                             storage=storage_for(str(tmp_path / "other")))
    assert skipped.skipped and _snapshot(engine) == before
    assert sorted(role for _, _, role in skipped.accounts) == ["admin", "instructor", "program_lead"]


def test_cli_refuses_outside_demo_mode_and_removes_demo_accounts(engine, tmp_path, monkeypatch):
    _seed(engine, tmp_path, students=3)
    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    with pytest.raises(Forbidden, match="Demo mode is off"):
        demo.seed_demo_cli(engine, students=3, seed=1)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(StaffUser).where(StaffUser.is_demo.is_(True))) == 0
