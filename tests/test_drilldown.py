"""The students behind a figure, their timeline, exports and the recorded nudge."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core import drilldown, telemetry
from core.access import Actor
from core.db import session_scope
from core.errors import Forbidden, Invalid
from core.models import Student

ADMIN = Actor(id=None, email="a@x", display_name="Admin", role="admin")
LEAD = Actor(id=None, email="l@x", display_name="Lead", role="program_lead")


@pytest.fixture
def students(seeded_engine, monkeypatch):
    from core import progress

    monkeypatch.setattr(progress, "today", lambda: date(2026, 10, 4))  # streaks stored as of then
    with session_scope(seeded_engine) as session:
        session.add_all([Student(id=1, email="ada@example.edu", full_name="=HYPERLINK(\"x\")", cohort="n"),
                         Student(id=2, email="grace@example.edu", full_name="Grace Hopper", cohort="n")])
        for day in (1, 2, 3):
            telemetry.record_event(session, user_id=1, event_type="lesson_view",
                                   event_timestamp=datetime(2026, 10, day, 15, tzinfo=UTC))
        telemetry.record_event(session, user_id=2, event_type="lesson_view",
                               event_timestamp=datetime(2026, 10, 3, 15, tzinfo=UTC))
    return seeded_engine


def test_list_shows_names_to_admins_and_aliases_to_others(students):
    with session_scope(students) as session:
        admin = drilldown.student_list(session, actor=ADMIN, user_ids=[1, 2], on=date(2026, 10, 4))
        lead = drilldown.student_list(session, actor=LEAD, user_ids=[1, 2], on=date(2026, 10, 4))
        lapsed = drilldown.student_list(session, actor=ADMIN, user_ids=[1], on=date(2026, 10, 9))
    assert set(admin["email"]) == {"ada@example.edu", "grace@example.edu"}
    assert admin.set_index("user_id").loc[1, "streak_days"] == 3
    assert lapsed["streak_days"].tolist() == [0]  # stored 3, but a day passed idle
    assert "email" not in lead and not lead["student"].str.contains("Grace").any()
    assert "user_id" not in drilldown.shown(lead, actor=LEAD)
    csv = drilldown.export_csv(admin, actor=ADMIN).decode()
    assert "'=HYPERLINK" in csv and "no submission" in csv
    assert drilldown.export_xlsx(lead, actor=LEAD)[:2] == b"PK"


def test_who_is_behind_dau_wau(students):
    with session_scope(students) as session:
        assert drilldown.active_ids(session, actor=LEAD, day=date(2026, 10, 2)) == [1]
        assert drilldown.active_ids(session, actor=LEAD, day=date(2026, 10, 9), window=7) == [1, 2]
        assert drilldown.active_ids(session, actor=LEAD, day=date(2026, 10, 10), window=7) == []


def test_who_is_behind_a_streak_bar(students):
    with session_scope(students) as session:
        assert drilldown.streak_ids(session, actor=LEAD, kind="current", streak="3–6", on=date(2026, 10, 4)) == [1]
        assert drilldown.streak_ids(session, actor=LEAD, kind="current", streak="1–2", on=date(2026, 10, 4)) == [2]
        # A week later both streaks have lapsed; the longest stays.
        assert drilldown.streak_ids(session, actor=LEAD, kind="current", streak="0", on=date(2026, 10, 11)) == [1, 2]
        assert drilldown.streak_ids(session, actor=LEAD, kind="longest", streak="3–6", on=date(2026, 10, 11)) == [1]


def test_nudge_is_recorded_and_shown_in_the_timeline(students):
    with session_scope(students) as session:
        contacts = drilldown.contacts(session, actor=ADMIN, user_ids=[1, 2])
        with pytest.raises(Forbidden):
            drilldown.contacts(session, actor=LEAD, user_ids=[1])
    link = drilldown.mailto(contacts["email"])
    assert link.startswith("mailto:?bcc=ada@example.edu,grace@example.edu&subject=")
    with pytest.raises(Forbidden):
        drilldown.record_nudge(students, actor=LEAD, user_ids=[1], channel="mailto")
    assert drilldown.record_nudge(students, actor=ADMIN, user_ids=[1], channel="mailto") == 1
    with session_scope(students) as session:
        line = drilldown.timeline(session, actor=LEAD, user_id=1)
    assert line["kind"].tolist() == ["event", "event", "event", "nudge"]
    assert line["at"].is_monotonic_increasing and line.iloc[-1]["what"] == "a@x"
    assert line.iloc[0]["at"] < line.iloc[1]["at"] - timedelta(hours=1)


def test_a_selection_names_each_picked_figure_once():
    # A box over the time chart catches the bar and the rubric line's marker of one bucket.
    box = [{"x": "<1 h", "curve_number": 0}, {"x": "<1 h", "curve_number": 1}, {"x": "1–5 h", "curve_number": 0}]
    assert drilldown.selection_targets(box, field="x") == ("<1 h", "1–5 h")
    click = [{"y": "bs_balances · a2_wc_debt · AAPL", "customdata": ["bs_balances", "a2_wc_debt"]}]
    assert drilldown.selection_targets(click, field="customdata") == (("bs_balances", "a2_wc_debt"),)
    assert drilldown.selection_targets([], field="x") == ()


def test_selection_drill_down_refuses_charts_it_does_not_know(students):
    with session_scope(students) as session, pytest.raises(Invalid, match="No drill-down by selection"):
        drilldown.selection_ids(session, actor=LEAD, chart="retention", targets=[1])
    with session_scope(students) as session:
        assert drilldown.selection_ids(session, actor=LEAD, chart="time", targets=[]) == []
