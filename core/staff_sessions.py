"""Server-side staff sessions behind the browser's session cookie.

Signing in makes a random token; the browser keeps it in an HttpOnly cookie and the
database keeps only its SHA-256, so a copy of the table cannot be replayed. Every page
run looks the token up: a session ends when it is revoked (sign-out, deactivation,
password change), after `NGI_SESSION_IDLE_TIMEOUT` without a page run, or
`NGI_SESSION_MAX_AGE` after sign-in, whichever comes first.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import auth, config
from core.access import Actor
from core.db import session_scope, utcnow
from core.models import StaffSession

COOKIE_NAME = "ngi_session"
USER_AGENT_LENGTH = 512
# last_seen_at is written at most this often, so a busy page is not one write per run.
_TOUCH_EVERY = timedelta(minutes=1)


def idle_timeout() -> timedelta:
    return config.env_duration("NGI_SESSION_IDLE_TIMEOUT")


def max_age() -> timedelta:
    return config.env_duration("NGI_SESSION_MAX_AGE")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(engine: Engine, *, actor: Actor, user_agent: str | None = None, now: datetime | None = None) -> str:
    """A new session for `actor`; returns the token for the cookie (shown only once)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with session_scope(engine, immediate=True) as session:
        # Sessions past their absolute expiry are dead weight; drop this account's.
        session.execute(delete(StaffSession).where(StaffSession.staff_id == actor.id, StaffSession.expires_at < now))
        session.add(StaffSession(
            staff_id=actor.id, token_hash=hash_token(token), created_at=now, last_seen_at=now,
            expires_at=now + max_age(), user_agent=(user_agent or None) and user_agent[:USER_AGENT_LENGTH],
        ))
    return token


def sign_in(
    engine: Engine, *, email: str, password: str, user_agent: str | None = None, now: datetime | None = None,
) -> tuple[Actor, str]:
    """Check the credentials (auth.sign_in: lockout, one refusal message), then start a session."""
    actor = auth.sign_in(engine, email=email, password=password, now=now)
    return actor, start(engine, actor=actor, user_agent=user_agent, now=now)


def resume(engine: Engine, token: str | None, *, now: datetime | None = None) -> Actor | None:
    """The staff member whose live session `token` is, or None; records the activity."""
    if not token:
        return None
    now = now or utcnow()
    with session_scope(engine) as session:
        row = session.scalar(select(StaffSession).where(StaffSession.token_hash == hash_token(token)))
        if row is None or not _alive(row, now):
            return None
        actor = auth.current_actor(session, row.staff_id)
        if actor is None:
            return None
        if now - row.last_seen_at >= min(_TOUCH_EVERY, idle_timeout() / 10):
            session.execute(update(StaffSession).where(StaffSession.id == row.id).values(last_seen_at=now))
        return actor


def _alive(row: StaffSession, now: datetime) -> bool:
    return row.revoked_at is None and now < row.expires_at and now < row.last_seen_at + idle_timeout()


def end(engine: Engine, token: str | None, *, now: datetime | None = None) -> None:
    """Sign-out: the token stops working in every tab that holds it."""
    if not token:
        return
    with session_scope(engine, immediate=True) as session:
        session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == hash_token(token), StaffSession.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
        )


def revoke_all(session: Session, staff_id: int, *, now: datetime | None = None) -> None:
    """Every live session of one account (deactivation, password change); in the caller's
    transaction, so the change and the revocation commit together."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
