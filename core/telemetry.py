"""Telemetry ingestion. `record_event` is what the other services call."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.db import utcnow
from core.models import LearningTelemetry


def mask_ip(raw: str | None) -> str | None:
    """IPv4 keeps its first three octets, IPv6 its first /48. Never store the raw address."""
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def record_event(
    session: Session, *, user_id: int, event_type: str, event_category: str | None = None,
    module: str | None = None, unit: str | None = None, lesson: str | None = None,
    activity: str | None = None, company_id: int | None = None, submission_id: int | None = None,
    event_data: dict[str, Any] | None = None, session_id: str | None = None,
    time_spent_seconds: int | None = None, user_agent: str | None = None, ip_address: str | None = None,
    event_timestamp: datetime | None = None,
) -> LearningTelemetry:
    event = LearningTelemetry(
        user_id=user_id, event_type=event_type, event_category=event_category, module=module, unit=unit,
        lesson=lesson, activity=activity, company_id=company_id, submission_id=submission_id,
        event_data=event_data, session_id=session_id, time_spent_seconds=time_spent_seconds,
        user_agent=user_agent, ip_address=mask_ip(ip_address), event_timestamp=event_timestamp or utcnow(),
    )
    session.add(event)
    session.flush()
    return event
