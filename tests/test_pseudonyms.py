"""Student aliases: keyed, one per student per viewer role, the same on every page."""

from __future__ import annotations

import hashlib
import stat
from datetime import date, timedelta

import pytest

from core import analytics, attention, pseudonyms, review
from core.db import session_scope
from core.errors import Unavailable
from core.feedback import moderation
from core.models import LearningCompany, LearningFeedback, LearningProgress, LearningSubmission, Student
from tests.support import staff_actor

TODAY = date(2026, 11, 20)


@pytest.fixture
def cohort(engine):
    """88 lapsed students, each with a submission and its feedback."""
    with session_scope(engine) as session:
        company = LearningCompany(ticker="KO", company_name="Coca-Cola")
        session.add(company)
        session.flush()
        ids = []
        for n in range(88):
            student = Student(email=f"s{n}@cohort.example", full_name=f"Student Number {n}", cohort="2026-fall")
            session.add(student)
            session.flush()
            session.add(LearningProgress(user_id=student.id, last_activity_date=TODAY - timedelta(days=10 + n % 5),
                                         completion_percentage=40))
            sub = LearningSubmission(user_id=student.id, company_id=company.id, activity_id="a1_drivers_map",
                                     module="m", submission_type="excel", version=1, is_latest=True,
                                     file_path=f"submissions/{student.id}/a1/x.xlsx", file_name="x.xlsx",
                                     validator_status="passed")
            session.add(sub)
            session.flush()
            session.add(LearningFeedback(submission_id=sub.id, user_id=student.id, feedback_type="rubric",
                                         feedback_text="Good.", release_state="released"))
            ids.append(student.id)
    return ids


def _unkeyed_guesses(label: str, candidates) -> set[int]:
    """Every id whose unkeyed hash, in any of the shapes this product has used, gives `label`."""
    tail = label.split()[-1].lower().lstrip("#")
    found = set()
    for i in candidates:
        for text in (f"ngi-student:{i}", f"{i}", f"student:{i}"):
            if hashlib.sha256(text.encode()).hexdigest().startswith(tail):
                found.add(i)
        if tail == str(i):
            found.add(i)
    return found


def test_aliases_shown_to_instructors_cannot_be_reversed_by_hashing_ids(engine, cohort):
    instructor = staff_actor(engine, "instructor")
    with session_scope(engine) as session:
        shown = analytics.at_risk(session, actor=instructor, on=TODAY)["student"].tolist()
        shown += [r["student"] for r in review.queue(session, actor=instructor)]
    assert len(shown) == 2 * 88
    reversed_ = [label for label in shown if _unkeyed_guesses(label, range(1, 2000))]
    assert reversed_ == []


def test_one_alias_per_student_per_role_on_every_page(engine, cohort):
    for role in ("instructor", "program_lead"):
        actor = staff_actor(engine, role)
        with session_scope(engine) as session:
            on_review = {r["student"] for r in review.queue(session, actor=actor)}
            on_moderation = set(moderation.queue(session, actor=actor)["student"])
            on_analytics = set(analytics.at_risk(session, actor=actor, on=TODAY)["student"])
            on_home = {i["student"] for i in attention.at_risk(session, actor=actor, today=TODAY)["items"]}
        expected = {pseudonyms.alias(i, role) for i in cohort}
        assert on_review == on_moderation == on_analytics == expected
        assert on_home <= expected and on_home
        assert all(a.startswith("Analyst ") and len(a) == len("Analyst 3F7A9C") for a in expected)
    # Two roles cannot pool what they know by alias.
    assert not {pseudonyms.alias(i, "instructor") for i in cohort} & {pseudonyms.alias(i, "program_lead")
                                                                       for i in cohort}


def test_admins_see_names_in_analytics_and_program_leads_do_not(engine, cohort):
    admin, lead = staff_actor(engine, "admin"), staff_actor(engine, "program_lead")
    with session_scope(engine) as session:
        named = analytics.at_risk(session, actor=admin, on=TODAY)
        aliased = analytics.at_risk(session, actor=lead, on=TODAY)
    assert named["student"].str.startswith("Student Number").all()
    assert "email" not in aliased.columns and "user_id" not in aliased.columns
    assert not aliased["student"].str.contains("Number").any()


def test_embedded_default_makes_a_private_key_once(tmp_path, monkeypatch):
    monkeypatch.delenv("NGI_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("NGI_DATA_DIR", str(tmp_path / "data"))
    first = pseudonyms.alias(7, "instructor")
    path = tmp_path / "data" / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) == 64
    pseudonyms._key_for.cache_clear()
    assert pseudonyms.alias(7, "instructor") == first  # kept, not redrawn
    monkeypatch.setenv("NGI_DATA_DIR", str(tmp_path / "other"))
    assert pseudonyms.alias(7, "instructor") != first  # another install, another key


def test_a_configured_key_decides_the_alias(monkeypatch):
    monkeypatch.setenv("NGI_PSEUDONYM_KEY", "one secret")
    one = pseudonyms.alias(7, "instructor")
    monkeypatch.setenv("NGI_PSEUDONYM_KEY", "another secret")
    assert pseudonyms.alias(7, "instructor") != one


def test_database_url_without_a_key_is_refused_clearly(monkeypatch):
    monkeypatch.delenv("NGI_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/ngi")
    with pytest.raises(Unavailable, match="NGI_PSEUDONYM_KEY is not set"):
        pseudonyms.alias(7, "instructor")
