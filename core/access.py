"""Who may do what. Services call `require(actor, capability)` before they act, so a
page that forgets to hide a button still cannot do what the role may not."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import Forbidden

# capability -> roles that hold it. The table in the README mirrors this.
CAPABILITIES: dict[str, frozenset[str]] = {
    "content.read": frozenset({"instructor", "admin", "program_lead"}),
    "content.edit": frozenset({"admin"}),
    "packages.read": frozenset({"instructor", "admin", "program_lead"}),
    "packages.download": frozenset({"instructor", "admin"}),
    "packages.build": frozenset({"admin"}),
    "companies.manage": frozenset({"admin"}),
    "review.read": frozenset({"instructor", "admin", "program_lead"}),
    "review.act": frozenset({"instructor", "admin"}),
    "review.reveal": frozenset({"instructor", "admin"}),
    "feedback.read": frozenset({"instructor", "admin", "program_lead"}),
    "feedback.moderate": frozenset({"admin"}),
    "leaderboard.read": frozenset({"instructor", "admin", "program_lead"}),
    "leaderboard.identities": frozenset({"admin"}),
    "analytics.read": frozenset({"instructor", "admin", "program_lead"}),
    "analytics.full": frozenset({"admin", "program_lead"}),
    # Names and emails in lists (analytics, home page); everyone else sees core.pseudonyms aliases.
    "students.identify": frozenset({"admin"}),
    "staff.manage": frozenset({"admin"}),
    "submissions.submit": frozenset({"instructor", "admin"}),
    "students.erase": frozenset({"admin"}),
    "telemetry.import": frozenset({"admin"}),
    "storage.manage": frozenset({"admin"}),
    "students.export": frozenset({"admin"}),
    "operations.read": frozenset({"admin"}),
    "telemetry.retention": frozenset({"admin"}),
    # Grading (issue 13): instructors grade, admins also release and allocate markers.
    "grades.read": frozenset({"instructor", "admin", "program_lead"}),
    "grades.grade": frozenset({"instructor", "admin"}),
    "grades.release": frozenset({"admin"}),
    "grades.allocate": frozenset({"admin"}),
    "audit.read": frozenset({"admin"}),
}

ROLE_LABELS = {"instructor": "Instructor", "admin": "Admin", "program_lead": "Program lead"}


@dataclass(frozen=True)
class Actor:
    """The signed-in staff member, as plain data (never an ORM object in a session)."""

    id: int | None
    email: str
    display_name: str
    role: str

    def can(self, capability: str) -> bool:
        return can(self, capability)


# The CLI's and background jobs' own account; `core.auth.system_actor(engine)` returns it
# as an Actor with a real staff id, so what it does is attributed.
SYSTEM_EMAIL = "system@ngi.local"
SYSTEM_NAME = "System (ngi CLI)"


def can_role(role: str | None, capability: str) -> bool:
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    return role in CAPABILITIES[capability]


def can(actor: Actor | None, capability: str) -> bool:
    return actor is not None and can_role(actor.role, capability)


def require(actor: Actor | None, capability: str) -> Actor:
    if actor is None:
        raise Forbidden("Please sign in first.")
    if not can(actor, capability):
        role = ROLE_LABELS.get(actor.role, actor.role)
        raise Forbidden(f"{role}s may not do this ({capability}).")
    return actor
