"""Telemetry ingestion: JSON Lines and xAPI imports, idempotency, bad lines, strict
mode, and IP anonymisation (no raw address anywhere in the database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from core import telemetry
from core.db import Base, session_scope
from core.errors import Invalid
from core.models import LearningProgress, LearningTelemetry, Student, TelemetryDaily
from tests.support import SETUP_ADMIN

RAW_V4 = "203.0.113.77"
RAW_V6 = "2001:db8:85a3:8d3:1319:8a2e:370:7348"


@pytest.fixture
def students(seeded_engine):
    with session_scope(seeded_engine) as session:
        session.add_all([
            Student(id=1, email="ada@example.edu", full_name="Ada Lovelace", cohort="2026-fall"),
            Student(id=2, email="grace@example.edu", full_name="Grace Hopper", cohort="2026-fall"),
        ])
    return seeded_engine


def _jsonl(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def _event(**overrides):
    event = {"user_id": 1, "event_type": "lesson_view", "event_category": "learning",
             "module": "business_foundations", "unit": "unit_1_systems_thinking", "lesson": "l1_business_model",
             "session_id": "abc", "time_spent_seconds": 300, "event_timestamp": "2026-10-05T09:15:00-04:00"}
    event.update(overrides)
    return event


def _count(engine, model=LearningTelemetry):
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def _import(engine, path, **kwargs):
    return telemetry.import_events(engine, path, actor=SETUP_ADMIN, **kwargs)


def test_jsonl_import_stores_events_and_updates_rollup_and_progress(students, tmp_path):
    path = _jsonl(tmp_path / "events.jsonl", [
        _event(ip_address=RAW_V4, event_data={"event_id": "e-1", "page": 3}),
        _event(event_type="activity_start", lesson=None, activity="a1_drivers_map",
               event_timestamp="2026-10-05T09:25:00-04:00", ip_address=RAW_V6),
        _event(user_id=2, event_timestamp="2026-10-06T23:30:00-04:00"),
    ])
    result = _import(students, path)
    assert (result.accepted, result.rejected, result.duplicates) == (3, 0, 0)
    with session_scope(students) as session:
        rows = session.scalars(select(LearningTelemetry).order_by(LearningTelemetry.event_timestamp)).all()
        assert [r.event_type for r in rows] == ["lesson_view", "activity_start", "lesson_view"]
        assert rows[0].event_timestamp == datetime(2026, 10, 5, 13, 15, tzinfo=UTC)
        assert rows[0].event_data == {"event_id": "e-1", "page": 3}
        assert rows[0].ip_address == "203.0.113.0"
        assert rows[1].ip_address == "2001:db8:85a3::"
        # 23:30 in New York on 6 October is 7 October in UTC: the rollup day is local.
        days = session.execute(select(TelemetryDaily.user_id, TelemetryDaily.day, TelemetryDaily.events)
                               .order_by(TelemetryDaily.user_id)).all()
        assert [(u, d.isoformat(), n) for u, d, n in days] == [(1, "2026-10-05", 2), (2, "2026-10-06", 1)]
        ada = session.scalar(select(LearningProgress).where(LearningProgress.user_id == 1))
        assert ada.current_activity == "a1_drivers_map"
        assert ada.total_minutes_invested == 10 + 5  # 10 min to the next event, then its own 300 s


def test_reimport_adds_nothing(students, tmp_path):
    path = _jsonl(tmp_path / "events.jsonl", [
        _event(), _event(event_timestamp="2026-10-05T10:00:00-04:00"), _event(event_data={"event_id": "x"}),
    ])
    assert _import(students, path).accepted == 3
    again = _import(students, path)
    assert (again.accepted, again.duplicates) == (0, 3)
    assert _count(students) == 3
    # The same event id with different fields is still the same event.
    other = _jsonl(tmp_path / "other.jsonl", [_event(event_data={"event_id": "x"}, lesson="l2_revenue_drivers")])
    assert _import(students, other).accepted == 0
    assert _count(students) == 3


def test_bad_lines_are_reported_by_number_and_skipped(students, tmp_path):
    path = _jsonl(tmp_path / "events.jsonl", [
        _event(),
        "{not json",
        _event(event_timestamp="2026-10-05T10:00:00"),
        _event(user_id=999),
        "",
        _event(event_timestamp="2026-10-05T11:00:00Z", time_spent_seconds=-5),
        _event(event_timestamp="2026-10-05T12:00:00Z"),
    ])
    result = _import(students, path)
    assert result.accepted == 2
    assert result.rejected == 4
    assert [line for line, _ in result.errors] == [2, 3, 4, 6]
    messages = dict(result.errors)
    assert "not valid JSON" in messages[2]
    assert "no UTC offset" in messages[3]
    assert "999" in messages[4]
    assert "time_spent_seconds" in messages[6]
    assert "2 accepted" in result.summary() and "4 rejected" in result.summary()
    assert _count(students) == 2


def test_strict_mode_rejects_the_whole_file(students, tmp_path):
    path = _jsonl(tmp_path / "events.jsonl", [_event(), _event(event_type=None), _event(user_id=2)])
    with pytest.raises(Invalid) as caught:
        _import(students, path, strict=True)
    assert "line 2" in caught.value.message and "event_type" in caught.value.message
    assert _count(students) == 0
    assert _count(students, TelemetryDaily) == 0


STATEMENTS = [
    {
        "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
        "actor": {"objectType": "Agent", "name": "Ada Lovelace", "mbox": "mailto:Ada@Example.edu"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
        "object": {"objectType": "Activity", "id": "https://ngi.example/xapi/lessons/l2_revenue_drivers",
                   "definition": {"name": {"en-US": "Revenue drivers"},
                                  "type": "http://adlnet.gov/expapi/activities/lesson"}},
        "result": {"duration": "PT12M30S"},
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "contextActivities": {
                "parent": [{"id": "https://ngi.example/xapi/units/unit_1_systems_thinking"}],
                "grouping": [{"id": "https://ngi.example/xapi/modules/business_foundations"}],
            },
            "extensions": {"https://ngi.example/xapi/company": "TSLA", "https://ngi.example/xapi/ip": RAW_V4},
        },
        "timestamp": "2026-10-05T14:02:11.250+01:00",
        "stored": "2026-10-05T13:02:12Z",
        "version": "1.0.3",
    },
    {
        "id": "a8c7f1f2-6f0e-4a55-9b9f-0d4c3a2b1e00",
        "actor": {"objectType": "Agent", "account": {"homePage": "https://ngi.example", "name": "2"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted"}},
        "object": {"id": "https://ngi.example/xapi/activities/a2_wc_debt"},
        "context": {"contextActivities": {"parent": {"id": "https://ngi.example/xapi/units/unit_3_working_capital"}}},
        "timestamp": "2026-10-06T08:00:00Z",
    },
    {
        "id": "0b5e2d7c-1111-4c6c-9f5a-2e6f1a3b4c5d",
        "actor": {"mbox": "mailto:grace@example.edu"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://ngi.example/xapi/activities/a2_wc_debt"},
        "result": {"completion": True, "success": True, "duration": "PT1H5M"},
        "timestamp": "2026-10-06T09:30:00Z",
    },
    {
        "id": "ffffffff-2222-4c6c-9f5a-2e6f1a3b4c5d",
        "actor": {"mbox": "mailto:grace@example.edu"},
        "verb": {"id": "http://example.com/verbs/teleported"},
        "object": {"id": "https://ngi.example/xapi/activities/a2_wc_debt"},
        "timestamp": "2026-10-06T09:40:00Z",
    },
]


def test_xapi_statements_map_to_events(students, tmp_path):
    path = tmp_path / "statements.json"
    path.write_text(json.dumps(STATEMENTS, indent=2))
    result = _import(students, path, fmt="xapi")
    assert result.accepted == 3
    assert result.errors and result.errors[0][0] == 4 and "teleported" in result.errors[0][1]
    with session_scope(students) as session:
        rows = session.scalars(select(LearningTelemetry).order_by(LearningTelemetry.event_timestamp)).all()
        view, start, done = rows
        assert (view.user_id, view.event_type) == (1, "lesson_view")
        assert (view.module, view.unit, view.lesson, view.activity) == (
            "business_foundations", "unit_1_systems_thinking", "l2_revenue_drivers", None)
        assert view.time_spent_seconds == 750
        assert view.event_timestamp == datetime(2026, 10, 5, 13, 2, 11, 250000, tzinfo=UTC)
        assert view.company_id is not None and view.ip_address == "203.0.113.0"
        assert view.session_id == "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
        assert (start.user_id, start.event_type, start.activity, start.unit, start.module) == (
            2, "activity_start", "a2_wc_debt", "unit_3_working_capital", "accounting_i")
        assert (done.event_type, done.time_spent_seconds, done.event_data["success"]) == (
            "activity_complete", 3900, True)
        grace = session.scalar(select(LearningProgress).where(LearningProgress.user_id == 2))
        assert grace.activities_completed == 1
    again = _import(students, path, fmt="xapi")
    assert (again.accepted, again.duplicates) == (0, 3)
    # The same statements as JSON Lines are the same events.
    lines = _jsonl(tmp_path / "statements.jsonl", STATEMENTS[:3])
    assert _import(students, lines, fmt="xapi").accepted == 0
    assert _count(students) == 3


@pytest.mark.parametrize("value, seconds", [
    ("PT25M", 1500), ("PT1H2M3.5S", 3723), ("P1DT2H", 93600), ("PT0S", 0), ("PT90S", 90),
])
def test_iso_durations(value, seconds):
    assert telemetry.iso_duration_seconds(value) == seconds


@pytest.mark.parametrize("value", ["25M", "PT", "P", "PT1H2", "1 hour"])
def test_bad_iso_durations_are_refused(value):
    with pytest.raises(telemetry.BadLine):
        telemetry.iso_duration_seconds(value)


@pytest.mark.parametrize("raw, masked", [
    ("203.0.113.77", "203.0.113.0"),
    ("10.1.2.255", "10.1.2.0"),
    (" 198.51.100.9 ", "198.51.100.0"),
    ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
    ("2001:DB8:1:ffff::1", "2001:db8:1::"),
    ("::ffff:203.0.113.77", "203.0.113.0"),
    ("not an ip", None),
    ("", None),
    (None, None),
])
def test_mask_ip(raw, masked):
    assert telemetry.mask_ip(raw) == masked


def test_no_raw_address_is_stored_anywhere(students, tmp_path):
    with session_scope(students) as session:
        telemetry.record_event(session, user_id=1, event_type="lesson_view", ip_address=RAW_V4,
                               event_data={"client": {"ip": RAW_V6, "forwarded": [RAW_V4]}})
    path = _jsonl(tmp_path / "events.jsonl", [_event(user_id=2, ip_address=RAW_V6, event_data={"from": RAW_V4})])
    assert _import(students, path).accepted == 1
    xapi = tmp_path / "statements.json"
    xapi.write_text(json.dumps(STATEMENTS[:1]))
    assert _import(students, xapi, fmt="xapi").accepted == 1
    dump = []
    with students.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in sa.inspect(students).get_table_names():
                dump += [str(tuple(row)) for row in conn.execute(table.select())]
    text = "\n".join(dump).lower()
    assert "203.0.113.0" in text  # the masked form is there ...
    for raw in (RAW_V4, RAW_V6, "8a2e:370:7348"):
        assert raw.lower() not in text  # ... the raw one nowhere


def test_unknown_format_and_missing_file_are_clear(students, tmp_path):
    with pytest.raises(Invalid, match="Unknown format"):
        _import(students, tmp_path, fmt="csv")
    with pytest.raises(Invalid, match="does not exist"):
        _import(students, tmp_path / "nope.jsonl")


def test_duplicates_inside_one_file_are_imported_once(students, tmp_path):
    a, b, c = (_event(event_timestamp=f"2026-10-05T1{n}:00:00Z") for n in range(3))
    path = _jsonl(tmp_path / "events.jsonl", [a, a, b, c, a, b])
    result = _import(students, path, batch_size=2)  # duplicates within and across batches
    assert (result.accepted, result.duplicates) == (3, 3)
    assert _count(students) == 3


# -- addresses inside free text: event_data strings, nested JSON text, user_agent ------

V4_IN_TEXT, V6_IN_TEXT = "198.51.100.213", "2001:db8:4c1e:77:a1b2:c3d4:e5f6:1234"
AGENT = f"Mozilla/5.0 (X11; Linux) Chrome/120.0.6099.109 Safari/537.36 via proxy {V4_IN_TEXT}:3128 [{V6_IN_TEXT}]"
PAYLOAD = {
    "note": f"client {V4_IN_TEXT} forwarded for {V6_IN_TEXT}.",
    "headers": json.dumps({"X-Forwarded-For": f"{V4_IN_TEXT}, {V6_IN_TEXT}"}),  # JSON held as a string
    "deep": [{"raw": json.dumps({"inner": json.dumps({"ip": f"ip={V4_IN_TEXT}"})})}],
}


def _stored_text(engine) -> str:
    with session_scope(engine) as session:
        rows = session.execute(select(LearningTelemetry.event_data, LearningTelemetry.user_agent)).all()
    assert rows
    return "\n".join(json.dumps(data) + "\n" + (agent or "") for data, agent in rows)


def _assert_masked(text: str) -> None:
    assert V4_IN_TEXT not in text and "a1b2:c3d4" not in text.lower() and "4c1e:77:" not in text.lower()
    assert "198.51.100.0" in text and "2001:db8:4c1e::" in text.lower()
    assert "Chrome/120.0.6099.109" in text  # version numbers are not addresses


@pytest.mark.parametrize("raw, masked", [
    (f"from {V4_IN_TEXT}.", "from 198.51.100.0."),
    (f"[{V6_IN_TEXT}]:443", "[2001:db8:4c1e::]:443"),
    ("fe80::1ff:fe23:4567:890a%eth0 up", "fe80:: up"),
    ("mapped ::ffff:203.0.113.77", "mapped 203.0.113.0"),
    ("at 12:30:45, build 1.2.3.4.5, mac 00:1a:2b:3c:4d:5e", "at 12:30:45, build 1.2.3.4.5, mac 00:1a:2b:3c:4d:5e"),
])
def test_addresses_inside_text_are_masked(raw, masked):
    assert telemetry.mask_ips_in_text(raw) == masked


def test_recorded_event_masks_addresses_in_payload_text_and_user_agent(students):
    with session_scope(students) as session:
        telemetry.record_event(session, user_id=1, event_type="lesson_view", ip_address=V4_IN_TEXT,
                               user_agent=AGENT, event_data=PAYLOAD)
    _assert_masked(_stored_text(students))


def test_imported_events_mask_addresses_in_payload_text_and_user_agent(students, tmp_path):
    # PostgreSQL imports through COPY, SQLite through executemany: both paths are covered.
    path = _jsonl(tmp_path / "events.jsonl", [_event(user_agent=AGENT, event_data=PAYLOAD)])
    assert _import(students, path).accepted == 1
    _assert_masked(_stored_text(students))
