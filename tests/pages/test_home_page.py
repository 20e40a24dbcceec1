"""Home: each role's attention summary matches the data, and an empty database shows
empty states with hints rather than errors."""

from __future__ import annotations

import pytest

from core import attention
from core.db import make_engine, session_scope
from tests.support import staff_actor


@pytest.mark.parametrize("role", ["instructor", "admin", "program_lead"])
def test_metrics_match_the_attention_summary(demo_db, role, open_page):
    at = open_page("home", demo_db.url, role)
    engine = make_engine(demo_db.url)
    with session_scope(engine) as session:
        expected = attention.summary(session, actor=staff_actor(engine, role))
    engine.dispose()
    metrics = {m.label.split(": ", 1)[-1]: m.value for m in at.metric}  # drop the :material/...: icon
    assert len(metrics) == 4
    assert all(len(label) <= 18 for label in metrics), "labels fit four across at 1440 px"
    assert metrics["Awaiting review"] == str(expected["awaiting_review"]["count"])
    assert metrics["Flagged feedback"] == str(expected["flagged_feedback"]["count"])
    assert metrics["Stale packages"] == str(expected["stale_packages"]["count"])
    assert expected["awaiting_review"]["count"] > 0 and expected["stale_packages"]["count"] >= 2  # GE stale, GSBD none
    stale = next(df.value for df in at.dataframe if "problem" in df.value.columns)
    assert {"GE", "GSBD"} <= set(stale["ticker"])


def test_awaiting_review_lists_latest_unreviewed_versions_without_names(demo_db, open_page):
    at = open_page("home", demo_db.url, "instructor")
    queue = next(df.value for df in at.dataframe if "submission_id" in df.value.columns)
    assert 0 < len(queue) <= attention.ITEMS
    assert not {"student", "email", "user_id"} & set(queue.columns)


def test_empty_database_shows_hints_not_errors(sqlite_url, open_page):
    at = open_page("home", sqlite_url, "admin")
    assert [m.value for m in at.metric] == ["0", "0", "0", "0"]
    infos = " ".join(i.value for i in at.info)
    assert "Every latest submission has been reviewed" in infos and "No student has lapsed" in infos
