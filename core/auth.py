"""Staff accounts: argon2 password hashes, per-account lockout, demo accounts."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, config, staff_sessions
from core.access import SYSTEM_EMAIL, SYSTEM_NAME, Actor, require
from core.db import read_scope, retrying, session_scope, utcnow
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
    session: Session, *, actor: Actor, email: str, role: str, display_name: str | None = None,
    password: str | None = None,
) -> StaffUser:
    require(actor, "staff.manage")
    return _insert_staff(session, email=email, role=role, display_name=display_name, password=password)


def _insert_staff(
    session: Session, *, email: str, role: str, display_name: str | None = None,
    password: str | None = None, is_demo: bool = False, is_active: bool = True,
) -> StaffUser:
    """The row itself, for add_staff and for the accounts no one adds (demo, system)."""
    email = _normalize_email(email)
    if role not in STAFF_ROLES:
        raise Invalid(f"Role must be one of {', '.join(STAFF_ROLES)}; got {role!r}.")
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)):
        raise Conflict(f"A staff account for {email} already exists.")
    user = StaffUser(
        email=email, role=role, display_name=(display_name or email.split("@")[0]).strip()[:255],
        password_hash=hash_password(password) if password else None, is_active=is_active, is_demo=is_demo,
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
    """The staff member for these credentials, or None when refused, in the caller's
    transaction; use `sign_in` unless you manage the transaction yourself. After
    MAX_FAILURES wrong passwords the account refuses every attempt, right or wrong,
    until LOCKOUT has passed. Demo accounts are refused whenever demo mode is off.
    """
    now = now or utcnow()
    user_id, hashed = _candidate(session, email, now)
    ok = _verify(hashed, password or "")
    if user_id is None:
        return None
    return _record_attempt(session, user_id, password or "", ok=ok, now=now)


def _candidate(session: Session, email: str, now: datetime) -> tuple[int | None, str]:
    """(id, hash) of the account that may sign in with `email`, else (None, a dummy hash):
    both paths then verify a hash, so timing reveals nothing."""
    try:
        email = _normalize_email(email)
    except Invalid:
        return None, _DUMMY_HASH
    user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
    if user is None or not user.is_active or not user.password_hash or (user.is_demo and not config.demo_mode()):
        return None, _DUMMY_HASH
    if user.locked_until is not None and user.locked_until > now:
        return None, _DUMMY_HASH
    return user.id, user.password_hash


def _record_attempt(session: Session, user_id: int, password: str, *, ok: bool, now: datetime) -> Actor | None:
    """Count the attempt in SQL, from the row as it is now, never from what was read
    before the (slow) password check: concurrent attempts each add exactly one."""
    still_open = or_(StaffUser.locked_until.is_(None), StaffUser.locked_until <= now)
    if ok:
        user = session.scalar(
            update(StaffUser).where(StaffUser.id == user_id, StaffUser.is_active.is_(True), still_open)
            .values(failed_login_count=0, locked_until=None, last_login_at=now).returning(StaffUser)
            .execution_options(synchronize_session=False)
        )
        if user is None:  # locked or deactivated while the password was being checked
            return None
        if user.password_hash is not None and _hasher.check_needs_rehash(user.password_hash):
            session.execute(update(StaffUser).where(StaffUser.id == user_id)
                            .values(password_hash=_hasher.hash(password)))
        return actor_of(user)
    served = and_(StaffUser.locked_until.is_not(None), StaffUser.locked_until <= now)
    count = session.scalar(
        update(StaffUser).where(StaffUser.id == user_id)
        .values(
            # A lockout that has served its time starts the count again.
            failed_login_count=case((served, 1), else_=func.coalesce(StaffUser.failed_login_count, 0) + 1),
            locked_until=case((served, None), else_=StaffUser.locked_until),
        )
        .returning(StaffUser.failed_login_count)
    )
    if count is not None and count >= MAX_FAILURES:
        locked = session.execute(
            update(StaffUser).where(StaffUser.id == user_id, still_open)
            .values(locked_until=now + LOCKOUT).returning(StaffUser.id, StaffUser.email)
        ).first()
        if locked is not None:  # the attempt that locked the account, once
            audit.record(session, None, "staff.locked_out", target_type="staff_user", target_id=locked.id,
                         details={"email": locked.email, "until": (now + LOCKOUT).isoformat()})
    return None


def sign_in(engine: Engine, *, email: str, password: str, now: datetime | None = None) -> Actor:
    """Check credentials and record the attempt (committed even when refused, so
    failures count toward the lockout), then raise Forbidden(REFUSAL) if refused.

    The argon2 check runs with no transaction open; only the short counter update
    takes the write lock, retried on a PostgreSQL deadlock."""
    now = now or utcnow()
    with read_scope(engine) as session:
        user_id, hashed = _candidate(session, email, now)
    ok = _verify(hashed, password or "")
    actor = None
    if user_id is not None:
        def record() -> Actor | None:
            with session_scope(engine) as session:
                return _record_attempt(session, user_id, password or "", ok=ok, now=now)
        actor = retrying(record)
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
            _insert_staff(session, email=email, role=role, display_name=name, password=DEMO_PASSWORD, is_demo=True)
        elif user.is_demo:
            # A demo account always answers to the printed password and role.
            user.role, user.is_active = role, True
            user.password_hash = _hasher.hash(DEMO_PASSWORD)
            user.failed_login_count, user.locked_until = 0, None
    session.flush()
    return [(email, DEMO_PASSWORD, role) for email, _, role in DEMO_ACCOUNTS]


# --- staff management (admins and the CLI) -----------------------------------------


def create_staff(
    engine: Engine, *, actor: Actor, email: str, role: str, display_name: str | None = None,
    password: str | None = None,
) -> Actor:
    require(actor, "staff.manage")
    with session_scope(engine, immediate=True) as session:
        user = add_staff(session, actor=actor, email=email, role=role, display_name=display_name, password=password)
        audit.record(session, actor, "staff.add", target_type="staff_user", target_id=user.id,
                     details={"email": user.email, "role": role, "password_set": bool(password)})
        return actor_of(user)


def change_password(engine: Engine, *, actor: Actor, email: str, password: str) -> Actor:
    require(actor, "staff.manage")
    with session_scope(engine, immediate=True) as session:
        user = set_password(session, email, password)
        audit.record(session, actor, "staff.passwd", target_type="staff_user", target_id=user.id,
                     details={"email": user.email})
        return actor_of(user)


def deactivate_staff(engine: Engine, *, actor: Actor, email: str) -> Actor:
    require(actor, "staff.manage")
    with session_scope(engine, immediate=True) as session:
        user = find_staff(session, email)
        if user.id is not None and user.id == actor.id:
            raise Conflict("You cannot deactivate your own account.")
        user.is_active = False
        session.flush()
        staff_sessions.revoke_all(session, user.id)
        audit.record(session, actor, "staff.deactivate", target_type="staff_user", target_id=user.id,
                     details={"email": user.email})
        return actor_of(user)


def list_staff(session: Session, *, actor: Actor) -> list[dict]:
    require(actor, "staff.manage")
    users = session.scalars(select(StaffUser).order_by(StaffUser.role, StaffUser.email))
    return [
        dict(email=u.email, name=u.display_name, role=u.role, active=u.is_active, demo=u.is_demo,
             password=bool(u.password_hash), last_login_at=u.last_login_at,
             locked_until=u.locked_until)
        for u in users
    ]


def system_actor(engine: Engine) -> Actor:
    """The actor the CLI and background jobs act as: a real staff row, so `created_by`,
    `flagged_by` and `audit_log` name it. Created on first use; inactive and without a
    password, so no one can sign in as it (sign-in and OIDC refuse inactive accounts)."""
    lookup = select(StaffUser.id).where(func.lower(StaffUser.email) == SYSTEM_EMAIL)
    for _attempt in range(2):
        with session_scope(engine) as session:
            user_id = session.scalar(lookup)
        if user_id is not None:
            return Actor(id=user_id, email=SYSTEM_EMAIL, display_name=SYSTEM_NAME, role="admin")
        try:
            with session_scope(engine, immediate=True) as session:
                if session.scalar(lookup) is None:
                    _insert_staff(session, email=SYSTEM_EMAIL, role="admin", display_name=SYSTEM_NAME,
                                  is_active=False)
        except (IntegrityError, Conflict):  # another process created it between our read and insert
            continue
    raise Conflict(f"Could not create the system account {SYSTEM_EMAIL}.")
