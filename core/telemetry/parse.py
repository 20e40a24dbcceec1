"""Reading bulk imports: JSON Lines rows and xAPI 1.0.3 statements turned into
learning_telemetry rows (ids resolved, addresses masked), with bad lines reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import rollup
from core.errors import Invalid
from core.models import LearningCompany, LearningSubmission, Student
from core.telemetry.masking import mask_ip, mask_ips_in_text

COLUMNS = (
    "user_id", "event_type", "event_category", "module", "unit", "lesson", "activity", "company_id",
    "submission_id", "event_data", "session_id", "time_spent_seconds", "user_agent", "ip_address",
    "event_timestamp",
)
_STRINGS = {"event_type": 100, "event_category": 50, "module": 50, "unit": 100, "lesson": 100,
            "activity": 100, "session_id": 100}

# xAPI verb id (or its last path segment) -> event type. A config table: add a verb here.
XAPI_VERBS: dict[str, str] = {
    "http://adlnet.gov/expapi/verbs/experienced": "lesson_view",
    "http://adlnet.gov/expapi/verbs/attempted": "activity_start",
    "http://adlnet.gov/expapi/verbs/completed": "activity_complete",
    "http://adlnet.gov/expapi/verbs/passed": "validator_pass",
    "http://adlnet.gov/expapi/verbs/failed": "validator_fail",
    "http://adlnet.gov/expapi/verbs/answered": "answer",
    "http://adlnet.gov/expapi/verbs/launched": "session_start",
    "http://adlnet.gov/expapi/verbs/initialized": "session_start",
    "http://adlnet.gov/expapi/verbs/terminated": "session_end",
    "http://adlnet.gov/expapi/verbs/exited": "session_end",
    "http://adlnet.gov/expapi/verbs/progressed": "progress",
    "http://adlnet.gov/expapi/verbs/commented": "comment",
    "https://w3id.org/xapi/dod-isd/verbs/submitted": "submission",
    "http://activitystrea.ms/schema/1.0/submit": "submission",
    "https://ngi.example/xapi/verbs/submitted": "submission",
    "https://ngi.example/xapi/verbs/feedback-issued": "feedback_issued",
}
# Context extension that may carry the client's address (masked like ip_address).
XAPI_IP_EXTENSION = "https://ngi.example/xapi/ip"
_CATEGORY = {"lesson_view": "learning", "activity_start": "learning", "activity_complete": "learning",
             "submission": "submission", "validator_pass": "submission", "validator_fail": "submission",
             "feedback_issued": "feedback"}
_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class BadLine(ValueError):
    """One line (or statement) that cannot be imported; the message names the field."""


@dataclass
class ImportResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    students: int = 0

    def summary(self) -> str:
        return (f"{self.accepted} accepted, {self.duplicates} already imported, {self.rejected} rejected"
                f" ({self.students} students updated)")


def iso_duration_seconds(value: str) -> int:
    """xAPI result.duration (ISO 8601, e.g. PT1H2M3.5S) in whole seconds."""
    match = _DURATION.match(value or "")
    if not match or value in ("P", "PT") or value.endswith("T"):
        raise BadLine(f"result.duration {value!r} is not an ISO 8601 duration such as PT25M.")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return int(parts.get("days", 0) * 86400 + parts.get("hours", 0) * 3600 + parts.get("minutes", 0) * 60
               + parts.get("seconds", 0))


def _timestamp(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise BadLine(f"{name} is missing; give an ISO 8601 time with a UTC offset.")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadLine(f"{name} {value!r} is not an ISO 8601 time.") from None
    if parsed.tzinfo is None:
        raise BadLine(f"{name} {value!r} has no UTC offset (add Z or +hh:mm).")
    return parsed.astimezone(UTC)


class _Lookup:
    """Students, companies and submissions the import may refer to, loaded once."""

    def __init__(self, session: Session):
        self.students = {i: e for i, e in session.execute(select(Student.id, Student.email))}
        self.by_email = {e.lower(): i for i, e in self.students.items() if e}
        self.companies = set(session.scalars(select(LearningCompany.id)))
        self.tickers = {t.upper(): i for i, t in session.execute(select(LearningCompany.id, LearningCompany.ticker))}
        self.submissions = set(session.scalars(select(LearningSubmission.id)))


def _integer(record: dict, name: str, *, minimum: int | None = None) -> int | None:
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        else:
            raise BadLine(f"{name} must be a whole number, got {value!r}.")
    if minimum is not None and value < minimum:
        raise BadLine(f"{name} must be at least {minimum}, got {value}.")
    return value


def _row_from_jsonl(record: Any, lookup: _Lookup) -> dict:
    if not isinstance(record, dict):
        raise BadLine("expected a JSON object with the event's fields.")
    unknown = set(record) - set(COLUMNS) - {"id", "event_id"}
    if unknown:
        raise BadLine(f"unknown field(s) {', '.join(sorted(unknown))}; expected {', '.join(COLUMNS)}.")
    row: dict[str, Any] = {}
    user_id = _integer(record, "user_id")
    if user_id is None:
        raise BadLine("user_id is missing.")
    if user_id not in lookup.students:
        raise BadLine(f"user_id {user_id} is not a known student.")
    row["user_id"] = user_id
    for name, limit in _STRINGS.items():
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise BadLine(f"{name} must be text, got {value!r}.")
        if value is not None and len(value) > limit:
            raise BadLine(f"{name} is longer than {limit} characters.")
        row[name] = value or None
    if not row["event_type"]:
        raise BadLine("event_type is missing.")
    row["company_id"] = _integer(record, "company_id")
    if row["company_id"] is not None and row["company_id"] not in lookup.companies:
        raise BadLine(f"company_id {row['company_id']} is not a known company.")
    row["submission_id"] = _integer(record, "submission_id")
    if row["submission_id"] is not None and row["submission_id"] not in lookup.submissions:
        raise BadLine(f"submission_id {row['submission_id']} is not a known submission.")
    row["time_spent_seconds"] = _integer(record, "time_spent_seconds", minimum=0)
    data = record.get("event_data")
    if data is not None and not isinstance(data, dict):
        raise BadLine("event_data must be a JSON object.")
    row["event_data"] = data
    agent = record.get("user_agent")
    row["user_agent"] = mask_ips_in_text(str(agent)) if agent is not None else None
    ip = record.get("ip_address")
    row["ip_address"] = mask_ip(str(ip)) if ip is not None else None
    if ip is not None and row["ip_address"] is None:
        raise BadLine("ip_address is not an IPv4 or IPv6 address.")
    row["event_timestamp"] = _timestamp(record.get("event_timestamp"), "event_timestamp")
    event_id = record.get("event_id") or record.get("id") or (data or {}).get("event_id")
    row["_key"] = f"id:{event_id}" if event_id else None
    return row


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _segment(iri: str | None) -> str | None:
    if not iri or not isinstance(iri, str):
        return None
    return iri.rstrip("/").rsplit("/", 1)[-1].split("#")[-1] or None


def _row_from_xapi(statement: Any, lookup: _Lookup, cmap: rollup.ContentMap) -> dict:
    if not isinstance(statement, dict):
        raise BadLine("expected an xAPI statement object.")
    actor = statement.get("actor") or {}
    user_id = None
    if isinstance(actor, dict) and isinstance(actor.get("mbox"), str):
        email = actor["mbox"].removeprefix("mailto:").strip().lower()
        user_id = lookup.by_email.get(email)
        if user_id is None:
            raise BadLine(f"actor.mbox {email} is not a known student.")
    elif isinstance(actor, dict) and isinstance(actor.get("account"), dict):
        name = str(actor["account"].get("name", "")).strip()
        user_id = int(name) if name.isdigit() else lookup.by_email.get(name.lower())
        if user_id not in lookup.students:
            raise BadLine(f"actor.account.name {name!r} is not a known student id or email.")
    else:
        raise BadLine("actor has neither mbox nor account.")
    verb = _dict(statement.get("verb")).get("id")
    event_type = XAPI_VERBS.get(verb or "")
    if event_type is None:
        raise BadLine(f"verb.id {verb!r} is not in the verb mapping (core/telemetry.py XAPI_VERBS).")
    context = _dict(statement.get("context"))
    found: dict[str, str] = {}
    object_iri = _dict(statement.get("object")).get("id")
    candidates = [_segment(object_iri)]
    activities = _dict(context.get("contextActivities"))
    for group in ("parent", "grouping", "category", "other"):
        items = activities.get(group) or []
        items = [items] if isinstance(items, dict) else items
        candidates += [_segment(item.get("id")) for item in items if isinstance(item, dict)]
    for key in candidates:
        kind = cmap.kind.get(key or "")
        if kind and key and kind not in found:
            found[kind] = key
    for kind, parent_kind in (("activity", "unit"), ("lesson", "unit"), ("unit", "module")):
        if kind in found and parent_kind not in found:
            parent = cmap.ancestor(found[kind], parent_kind)
            if parent:
                found[parent_kind] = parent
    result = _dict(statement.get("result"))
    seconds = iso_duration_seconds(result["duration"]) if result.get("duration") else None
    extensions = _dict(context.get("extensions"))
    company_id = None
    for key, value in extensions.items():
        if key.rstrip("/").endswith("company") and isinstance(value, str):
            company_id = lookup.tickers.get(value.upper())
    data = {"xapi_id": statement.get("id"), "verb": verb, "object": object_iri}
    for name in ("success", "completion", "score", "response"):
        if name in result:
            data[name] = result[name]
    return {
        "user_id": user_id, "event_type": event_type, "event_category": _CATEGORY.get(event_type, "learning"),
        "module": found.get("module"), "unit": found.get("unit"), "lesson": found.get("lesson"),
        "activity": found.get("activity"), "company_id": company_id, "submission_id": None,
        "event_data": data,
        "session_id": str(registration)[:100] if (registration := context.get("registration")) else None,
        "time_spent_seconds": seconds, "user_agent": None,
        "ip_address": mask_ip(ip) if isinstance(ip := extensions.get(XAPI_IP_EXTENSION), str) else None,
        "event_timestamp": _timestamp(statement.get("timestamp"), "timestamp"),
        "_key": f"xapi:{statement['id']}" if statement.get("id") else None,
    }


def _records(stream: IO[str], fmt: str) -> Iterator[tuple[int, Any]]:
    """(line or statement number, parsed JSON or the parse error) for each record."""
    first = stream.read(1)
    while first and first.isspace():
        first = stream.read(1)
    if fmt == "xapi" and first == "[":
        try:
            statements = json.loads(first + stream.read())
        except json.JSONDecodeError as err:
            raise Invalid(
                f"The file is not a valid JSON array of statements: {err.msg} at line {err.lineno}."
            ) from None
        for number, statement in enumerate(statements, start=1):
            yield number, statement
        return
    for number, line in enumerate(_prepend(first, stream), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as err:
            yield number, BadLine(f"not valid JSON ({err.msg}, column {err.colno}).")


def _prepend(first: str, stream: IO[str]) -> Iterator[str]:
    rest = stream.readline()
    yield first + rest
    yield from stream
