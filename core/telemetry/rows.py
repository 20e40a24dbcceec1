"""Import rows as tuples: each good record becomes (key digest, values in COLUMNS order),
ready for COPY or executemany, with no per-event dict or dataclass.

A well-formed JSON Lines record (the usual case) goes through precompiled checks here;
anything these checks do not accept outright (a wrong type, an unknown student, a bad
time, an address that does not parse) goes to `parse._row_from_jsonl`, which either
builds the same row or raises the BadLine naming the field. So messages and results do
not depend on which path a line took (tests/test_telemetry_rows.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from core import rollup
from core.errors import Invalid
from core.telemetry.masking import _scrub, mask_ip, mask_ips_in_text
from core.telemetry.parse import (
    _STRINGS,
    COLUMNS,
    BadLine,
    ImportResult,
    _Lookup,
    _records,
    _row_from_jsonl,
    _row_from_xapi,
)

Row = tuple[str, tuple]  # (sha256 hex of the event key, values in COLUMNS order)
_ALLOWED = frozenset(COLUMNS) | {"id", "event_id"}
_TEXT = ("event_category", "module", "unit", "lesson", "activity", "session_id")
_LIMITS = tuple(_STRINGS[name] for name in _TEXT)
_encode = json.encoder.encode_basestring_ascii  # what json.dumps uses for str (ensure_ascii)
_dumps = json.dumps


def natural_key(user_id: int, event_type: str, ts: datetime, module: str | None, unit: str | None,
                lesson: str | None, activity: str | None, session_id: str | None, submission_id: int | None) -> str:
    """The key of an event without an id: the text json.dumps gives for the list
    [user_id, event_type, ts.isoformat(), module, unit, lesson, activity, session_id,
    submission_id], built without it (the keys stored so far were made that way)."""
    text = [_encode(v) if isinstance(v, str) else "null" for v in (module, unit, lesson, activity, session_id)]
    return (f"nk:[{user_id}, {_encode(event_type)}, {_encode(ts.isoformat())}, {', '.join(text)}, "
            f"{'null' if submission_id is None else submission_id}]")


@functools.lru_cache(maxsize=4096)
def _agent(text: str) -> str | None:
    return mask_ips_in_text(text)


_NETWORKS: dict[str, bool] = {}  # 'a.b.c' -> whether it is a valid IPv4 /24 prefix


def _masked_ip(raw: str) -> str | None:
    """mask_ip, with a plain dotted quad cut to its /24 first: masking is idempotent and
    a cohort comes from few /24s, so mask_ip's cache stays hot."""
    head, _, last = raw.rpartition(".")
    if last.isdigit() and len(last) <= 3 and int(last) <= 255 and (last == "0" or last[0] != "0"):
        valid = _NETWORKS.get(head)
        if valid is None:
            parts = head.split(".")
            valid = len(parts) == 3 and all(p.isdigit() and str(int(p)) == p and int(p) <= 255 for p in parts)
            if len(_NETWORKS) < 100_000:
                _NETWORKS[head] = valid
        if valid:
            return mask_ip(head + ".0")
    return mask_ip(raw)


def _fast(record: Any, lookup: _Lookup) -> Row | None:
    """The row of a well-formed JSON Lines record, or None to let the full parser decide."""
    if type(record) is not dict or not record.keys() <= _ALLOWED:
        return None
    get = record.get
    user_id, event_type = get("user_id"), get("event_type")
    if type(user_id) is not int or user_id not in lookup.students:
        return None
    if type(event_type) is not str or not event_type or len(event_type) > 100:
        return None
    text: tuple[Any, ...] = (get("event_category"), get("module"), get("unit"), get("lesson"), get("activity"), get("session_id"))
    for value, limit in zip(text, _LIMITS):
        if value is not None and (type(value) is not str or len(value) > limit):
            return None
    if "" in text:
        text = tuple(value or None for value in text)
    category, module, unit, lesson, activity, session_id = text
    company_id, submission_id, seconds = get("company_id"), get("submission_id"), get("time_spent_seconds")
    if company_id is not None and (type(company_id) is not int or company_id not in lookup.companies):
        return None
    if submission_id is not None and (type(submission_id) is not int or submission_id not in lookup.submissions):
        return None
    if seconds is not None and (type(seconds) is not int or seconds < 0):
        return None
    data, agent, ip, stamp = get("event_data"), get("user_agent"), get("ip_address"), get("event_timestamp")
    if (data is not None and type(data) is not dict) or (agent is not None and type(agent) is not str):
        return None
    if ip is not None and (type(ip) is not str or (ip := _masked_ip(ip)) is None):
        return None
    if type(stamp) is not str:
        return None
    try:
        ts = datetime.fromisoformat(stamp.strip())
    except ValueError:
        return None
    if ts.tzinfo is None:
        return None
    ts = ts.astimezone(UTC)
    event_id = get("event_id") or get("id") or (data or {}).get("event_id")
    key = f"id:{event_id}" if event_id else natural_key(user_id, event_type, ts, module, unit, lesson, activity,
                                                         session_id, submission_id)
    return hashlib.sha256(key.encode()).hexdigest(), (
        user_id, event_type, category, module, unit, lesson, activity, company_id, submission_id,
        _dumps(_scrub(data)) if data is not None else None, session_id, seconds,
        _agent(agent) if agent is not None else None, ip, ts)


def _from_dict(row: dict) -> Row:
    """The parser's dict (address masked, payload not yet serialised) as a Row."""
    key = row.pop("_key") or natural_key(row["user_id"], row["event_type"], row["event_timestamp"], row["module"],
                                         row["unit"], row["lesson"], row["activity"], row["session_id"],
                                         row["submission_id"])
    data = row["event_data"]
    row["event_data"] = _dumps(_scrub(data)) if data is not None else None
    return hashlib.sha256(key.encode()).hexdigest(), tuple(row[c] for c in COLUMNS)


def parsed_rows(stream: IO[str], fmt: str, lookup: _Lookup, cmap: rollup.ContentMap, result: ImportResult,
         seen: set[str]) -> Iterator[Row]:
    """The good records of a file as Rows. Bad lines are counted and listed in `result`
    (line number and message); a key already in `seen` counts as a duplicate."""
    for number, record in _records(stream, fmt):
        row = _fast(record, lookup) if fmt == "jsonl" else None
        if row is None:
            try:
                if isinstance(record, BadLine):
                    raise record
                row = _from_dict(_row_from_xapi(record, lookup, cmap) if fmt == "xapi"
                                 else _row_from_jsonl(record, lookup))
            except BadLine as err:
                result.rejected += 1
                result.errors.append((number, str(err)))
                continue
        if row[0] in seen:
            result.duplicates += 1
            continue
        seen.add(row[0])
        yield row


def strict_refusal(name: str, errors: list[tuple[int, str]]) -> Invalid:
    """What a strict import says when the file has bad lines: the first ten, by number."""
    shown = "; ".join(f"line {line}: {message}" for line, message in errors[:10])
    more = f"; and {len(errors) - 10} more" if len(errors) > 10 else ""
    return Invalid(f"{name}: {len(errors)} bad line(s), nothing imported (strict mode). {shown}{more}")
