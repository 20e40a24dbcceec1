"""Staff accounts: argon2 password hashes, per-account lockout, demo accounts."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit, config, staff_sessions
from core.access import Actor, require
from core.db import session_scope, utcnow
from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.models import STAFF_ROLES, StaffUser

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# One message for every refusal, so it never tells whether the email exists.
REFUSAL = "Sign-in refused: wrong email or password, or too many failed attempts (then wait 15 minutes)."

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths cost the same time. Stands
# for `_dummy_hash()`: 64 MiB of argon2 at import would slow every command that imports us.
_DUMMY_HASH = "<dummy hash, computed on first use>"

DEMO_PASSWORD = "demo-ngi-2026"
DEMO_ACCOUNTS = [
    ("admin@demo.ngi", "Ada Admin", "admin"),
    ("instructor@demo.ngi", "Ian Instructor", "instructor"),
    ("lead@demo.ngi", "Lee Program-Lead", "program_lead"),
]


def actor_of(user: StaffUser) -> Actor:
    return Actor(id=user.id, email=user.email, display_name=user.display_name, role=user.role)


def _normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 255 or email.startswith("@") or email.endswith("@"):
        raise Invalid(f"{email!r} is not an email address.")
    return email


def _check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(_check_password(password))


def add_staff(
    session: Session, *, email: str, role: str, display_name: str | None = None,
    password: str | None = None, is_demo: bool = False,
) -> StaffUser:
    email = _normalize_email(email)
    if role not in STAFF_ROLES:
        raise Invalid(f"Role must be one of {', '.join(STAFF_ROLES)}; got {role!r}.")
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)):
        raise Conflict(f"A staff account for {email} already exists.")
    user = StaffUser(
        email=email, role=role, display_name=(display_name or email.split("@")[0]).strip()[:255],
        password_hash=hash_password(password) if password else None, is_active=True, is_demo=is_demo,
    )
    session.add(user)
    session.flush()
    return user


def find_staff(session: Session, email: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == _normalize_email(email)))
    if user is None:
        raise NotFound(f"No staff account for {email}.")
    return user


def set_password(session: Session, email: str, password: str) -> StaffUser:
    user = find_staff(session, email)
    user.password_hash = hash_password(password)
    user.failed_login_count = 0
    user.locked_until = None
    session.flush()
    # Whoever knew the old password may still hold a session: it ends with the password.
    staff_sessions.revoke_all(session, user.id)
    return user


def authenticate(session: Session, email: str, password: str, *, now: datetime | None = None) -> Actor | None:
    """The staff member for these credentials, or None when refused.

    Returns None instead of raising so the caller can commit the failure count; use
    `sign_in` unless you manage the transaction yourself. After MAX_FAILURES wrong
    passwords the account refuses every attempt, right or wrong, until LOCKOUT has
    passed. Demo accounts are refused whenever demo mode is off.
    """
    now = now or utcnow()
    try:
        email = _normalize_email(email)
    except Invalid:
        _verify(_DUMMY_HASH, password or "")
        return None
    user = session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == email).with_for_update()
    )
    if user is None or not user.is_active or not user.password_hash or (user.is_demo and not config.demo_mode()):
        _verify(_DUMMY_HASH, password or "")
        return None
    if user.locked_until is not None and user.locked_until > now:
        _verify(_DUMMY_HASH, password or "")  # same cost as a real check: timing reveals nothing
        return None
    if not _verify(user.password_hash, password or ""):
        if user.locked_until is not None and user.locked_until <= now:
            user.failed_login_count = 0  # the previous lockout has served its time
            user.locked_until = None
        user.failed_login_count = (user.failed_login_count or 0) + 1
        if user.failed_login_count >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            audit.record(session, None, "staff.locked_out", target_type="staff_user", target_id=user.id,
                         details={"email": user.email, "until": user.locked_until.isoformat()})
        session.flush()
        return None
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.flush()
    return actor_of(user)


def sign_in(engine: Engine, *, email: str, password: str, now: datetime | None = None) -> Actor:
    """Check credentials in their own transaction, committed even when refused (so
    failures count toward the lockout), then raise Forbidden(REFUSAL) if refused."""
    with session_scope(engine) as session:
        actor = authenticate(session, email, password, now=now)
    if actor is None:
        raise Forbidden(REFUSAL)
    return actor


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not-a-real-password-000")


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(_dummy_hash() if hashed is _DUMMY_HASH else hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def actor_for_oidc_email(session: Session, email: str | None, *, email_verified: bool | None = None) -> Actor:
    """An OIDC identity is accepted only if its email belongs to an active staff user."""
    if not email:
        raise Forbidden("Your identity provider did not share an email address.")
    if email_verified is False:
        raise Forbidden(f"Your identity provider has not verified {email}; sign in with a verified address.")
    user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower()))
    if user is None or not user.is_active or (user.is_demo and not config.demo_mode()):
        raise Forbidden(f"{email} is not a staff account here. Ask an admin to add you.")
    user.last_login_at = utcnow()
    session.flush()
    return actor_of(user)


def current_actor(session: Session, actor_id: int) -> Actor | None:
    """Re-read on every page run so a deactivated or re-roled account takes effect at once."""
    user = session.get(StaffUser, actor_id)
    if user is None or not user.is_active or (user.is_demo and not config.demo_mode()):
        return None
    return actor_of(user)


def sync_demo_accounts(session: Session, *, demo: bool) -> list[tuple[str, str, str]]:
    """Create the demo accounts when demo mode is on; delete them when it is off.

    Returns (email, password, role) for each demo account, to be printed.
    """
    if not demo:
        session.execute(delete(StaffUser).where(StaffUser.is_demo.is_(True)))
        return []
    for email, name, role in DEMO_ACCOUNTS:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is None:
            add_staff(session, email=email, role=role, display_name=name, password=DEMO_PASSWORD, is_demo=True)
        elif user.is_demo:
            # A demo account always answers to the printed password and role.
            user.role, user.is_active = role, True
            user.password_hash = _hasher.hash(DEMO_PASSWORD)
            user.failed_login_count, user.locked_until = 0, None
    session.flush()
    return [(email, DEMO_PASSWORD, role) for email, _, role in DEMO_ACCOUNTS]


# --- staff management (admins and the CLI) -----------------------------------------


def create_staff(
    session: Session, actor: Actor, *, email: str, role: str, display_name: str | None = None,
    password: str | None = None,
) -> Actor:
    require(actor, "staff.manage")
    user = add_staff(session, email=email, role=role, display_name=display_name, password=password)
    audit.record(session, actor, "staff.add", target_type="staff_user", target_id=user.id,
                 details={"email": user.email, "role": role, "password_set": bool(password)})
    return actor_of(user)


def change_password(session: Session, actor: Actor, *, email: str, password: str) -> Actor:
    require(actor, "staff.manage")
    user = set_password(session, email, password)
    audit.record(session, actor, "staff.passwd", target_type="staff_user", target_id=user.id,
                 details={"email": user.email})
    return actor_of(user)


def deactivate_staff(session: Session, actor: Actor, *, email: str) -> Actor:
    require(actor, "staff.manage")
    user = find_staff(session, email)
    if user.id is not None and user.id == actor.id:
        raise Conflict("You cannot deactivate your own account.")
    user.is_active = False
    session.flush()
    staff_sessions.revoke_all(session, user.id)
    audit.record(session, actor, "staff.deactivate", target_type="staff_user", target_id=user.id,
                 details={"email": user.email})
    return actor_of(user)


def list_staff(session: Session, actor: Actor) -> list[dict]:
    require(actor, "staff.manage")
    users = session.scalars(select(StaffUser).order_by(StaffUser.role, StaffUser.email))
    return [
        dict(email=u.email, name=u.display_name, role=u.role, active=u.is_active, demo=u.is_demo,
             password=bool(u.password_hash), last_login_at=u.last_login_at,
             locked_until=u.locked_until)
        for u in users
    ]
