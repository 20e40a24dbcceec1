"""Staff accounts: argon2 password hashes, per-account lockout, demo accounts."""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.db import utcnow
from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.models import STAFF_ROLES, StaffUser

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# One message for every refusal, so it never tells whether the email exists.
REFUSAL = "Sign-in refused: wrong email or password, or too many failed attempts (then wait 15 minutes)."

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-000")

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
    return user


def authenticate(session: Session, email: str, password: str, *, now: datetime | None = None) -> Actor:
    """The staff member for these credentials, or Forbidden(REFUSAL).

    After MAX_FAILURES wrong passwords the account refuses every attempt, right or
    wrong, until LOCKOUT has passed. The caller commits, so failures are counted.
    """
    now = now or utcnow()
    try:
        email = _normalize_email(email)
    except Invalid:
        raise Forbidden(REFUSAL) from None
    user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
    if user is None or not user.is_active or not user.password_hash:
        _verify(_DUMMY_HASH, password or "")
        raise Forbidden(REFUSAL)
    if user.locked_until is not None and user.locked_until > now:
        raise Forbidden(REFUSAL)
    if not _verify(user.password_hash, password or ""):
        if user.locked_until is not None and user.locked_until <= now:
            user.failed_login_count = 0  # the previous lockout has served its time
            user.locked_until = None
        user.failed_login_count = (user.failed_login_count or 0) + 1
        if user.failed_login_count >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
        session.flush()
        raise Forbidden(REFUSAL)
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.flush()
    return actor_of(user)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def actor_for_oidc_email(session: Session, email: str | None) -> Actor:
    """An OIDC identity is accepted only if its email belongs to an active staff user."""
    if not email:
        raise Forbidden("Your identity provider did not share an email address.")
    user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower()))
    if user is None or not user.is_active:
        raise Forbidden(f"{email} is not a staff account here. Ask an admin to add you.")
    user.last_login_at = utcnow()
    session.flush()
    return actor_of(user)


def current_actor(session: Session, actor_id: int) -> Actor | None:
    """Re-read on every page run so a deactivated or re-roled account takes effect at once."""
    user = session.get(StaffUser, actor_id)
    if user is None or not user.is_active:
        return None
    return actor_of(user)


def sync_demo_accounts(session: Session, *, demo: bool) -> list[tuple[str, str, str]]:
    """Create the demo accounts when demo mode is on; delete them when it is off."""
    if not demo:
        session.execute(delete(StaffUser).where(StaffUser.is_demo.is_(True)))
        return []
    for email, name, role in DEMO_ACCOUNTS:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is None:
            add_staff(session, email=email, role=role, display_name=name, password=DEMO_PASSWORD, is_demo=True)
    return [(email, DEMO_PASSWORD, role) for email, _, role in DEMO_ACCOUNTS]
