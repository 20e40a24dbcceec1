"""Leaderboard page: non-admins never see a student's name, small companies show no
entries to them, and an admin's reveal is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import make_engine, session_scope
from core.leaderboard import MIN_ENTRIES
from core.models import AuditLog, LearningCompany, LearningLeaderboard, Student


def _everything_shown(at) -> str:
    texts = [str(e.value) for kind in ("markdown", "caption", "info", "title", "subheader", "text")
             for e in at.get(kind)]
    frames = [df.value.to_csv() for df in at.dataframe]
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    return "\n".join(texts + frames + charts)


def _people(url):
    engine = make_engine(url)
    with session_scope(engine) as session:
        names = list(session.scalars(select(Student.full_name).join(
            LearningLeaderboard, LearningLeaderboard.user_id == Student.id)))
        counts = dict(session.execute(select(LearningCompany.ticker, func.count()).join(
            LearningLeaderboard, LearningLeaderboard.company_id == LearningCompany.id)
            .group_by(LearningCompany.ticker)).all())
    engine.dispose()
    return names, counts


@pytest.mark.parametrize("role", ["instructor", "program_lead"])
def test_non_admins_never_see_names_or_small_companies_entries(demo_db, role, open_page):
    at = open_page("leaderboard", demo_db.url, role)
    names, counts = _people(demo_db.url)
    shown = _everything_shown(at)
    assert at.get("plotly_chart"), "the chart is part of what is checked"
    assert names and not [n for n in names if n in shown]
    assert "Reveal identities" not in [b.label for b in at.button]
    summary = at.dataframe[0].value
    small = [t for t, n in counts.items() if n < MIN_ENTRIES]
    for ticker in small:
        row = summary[summary["ticker"] == ticker].iloc[0]
        assert row["note"].startswith("fewer than") and row["median"] != row["median"]  # NaN: hidden
    if len(at.dataframe) > 1:
        assert not set(small) & set(at.selectbox(key="leaderboard_company").options)


def test_admin_reveal_shows_names_and_is_audited(demo_db, open_page):
    at = open_page("leaderboard", demo_db.url, "admin")
    names, counts = _people(demo_db.url)
    assert not [n for n in names if n in _everything_shown(at)]  # anonymized until revealed
    ticker = max(counts, key=counts.get)
    at.selectbox(key="reveal_company").select(ticker)
    at.text_input(key="reveal_reason").input("awarding the cohort prize")
    at.button[[b.label for b in at.button].index("Reveal identities")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    revealed = at.dataframe[-1].value
    assert len(revealed) == counts[ticker] and set(revealed["student"]) <= set(names)
    engine = make_engine(demo_db.url)
    with session_scope(engine) as session:
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "leaderboard.reveal"))
        assert (entry.target_id, entry.actor_email, entry.details["reason"]) == (
            ticker, "admin@test.ngi", "awarding the cohort prize")
    engine.dispose()


def test_empty_leaderboard_shows_a_hint(sqlite_url, open_page):
    at = open_page("leaderboard", sqlite_url, "instructor")
    assert any("No capstone price targets yet" in i.value for i in at.info)
