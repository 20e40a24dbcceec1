"""What needs each role's attention, for the home page. Each section appears only for a
role holding its capability, and carries a count, a few items and the page to open."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import analytics, content_tree, packages, review
from core.access import Actor, can, require
from core.db import utcnow
from core.feedback import moderation
from core.models import LearningCompany, LearningFeedback, LearningPackage, LearningSubmission

AT_RISK_DAYS = analytics.AT_RISK_DAYS
STALE_MONTHS = packages.STALE_AFTER_MONTHS
ITEMS = 8


def _title(session: Session, activity: str | None) -> str | None:
    node = content_tree.current(session).node(activity) if activity else None
    return node.title if node is not None else activity


def awaiting_review(session: Session, *, actor: Actor) -> dict:
    """Latest versions nobody has reviewed yet, oldest first (blind: no names)."""
    count = review.awaiting_review_count(session, actor=actor)
    where = review.awaiting_review_clause()
    by_status = dict(session.execute(
        select(LearningSubmission.validator_status, func.count()).where(where)
        .group_by(LearningSubmission.validator_status)).all())
    rows = session.execute(
        select(LearningSubmission.id, LearningSubmission.activity_id, LearningSubmission.version,
               LearningSubmission.validator_status, LearningSubmission.created_at, LearningCompany.ticker)
        .join(LearningCompany, LearningCompany.id == LearningSubmission.company_id)
        .where(where).order_by(LearningSubmission.created_at, LearningSubmission.id).limit(ITEMS)
    ).all()
    items = [dict(submission_id=r.id, activity=_title(session, r.activity_id), version=r.version, validator=r.validator_status,
                  submitted_at=r.created_at, ticker=r.ticker) for r in rows]
    return dict(count=count, by_status={k or "pending": v for k, v in by_status.items()}, items=items)


def flagged_feedback(session: Session, *, actor: Actor) -> dict:
    count = moderation.flagged_count(session, actor=actor)
    held = session.scalar(select(func.count()).select_from(LearningFeedback)
                          .where(LearningFeedback.release_state == "held")) or 0
    rows = session.execute(
        select(LearningFeedback.id, LearningFeedback.flag_reason, LearningFeedback.flagged_at,
               LearningSubmission.activity_id)
        .join(LearningSubmission, LearningSubmission.id == LearningFeedback.submission_id)
        .where(LearningFeedback.is_flagged.is_(True))
        .order_by(LearningFeedback.flagged_at.desc(), LearningFeedback.id.desc()).limit(ITEMS)
    ).all()
    items = [dict(feedback_id=r.id, reason=r.flag_reason, flagged_at=r.flagged_at, activity=_title(session, r.activity_id))
             for r in rows]
    return dict(count=count, held=held, items=items)


def at_risk(session: Session, *, actor: Actor, today: date | None = None) -> dict:
    """The analytics page's at-risk list (same definition, same identity rules: names
    only for students.identify, aliases otherwise), most recently lapsed first."""
    frame = analytics.at_risk(session, actor=actor, on=today)
    # Most recently lapsed first: they are the ones a nudge can still bring back.
    frame = frame.sort_values("last_activity_date", ascending=False, kind="stable")
    by_cohort = frame["cohort"].fillna("no cohort").value_counts().to_dict()
    items = [dict(student=r.student, cohort=r.cohort, last_active=r.last_activity_date,
                  days_inactive=int(r.days_inactive), current_activity=_title(session, r.current_activity),
                  completion=float(r.completion_percentage)) for r in frame.head(ITEMS).itertuples()]
    return dict(count=len(frame), by_cohort={str(k): int(v) for k, v in by_cohort.items()}, items=items)


def stale_packages(session: Session, *, actor: Actor, today: date | None = None) -> dict:
    """Active companies whose current package is stale (core.packages.is_stale), or missing."""
    require(actor, "packages.read")
    today = today or utcnow().date()
    current = (select(LearningPackage.company_id, LearningPackage.package_date, LearningPackage.version)
               .where(LearningPackage.is_current.is_(True)).subquery())
    rows = session.execute(
        select(LearningCompany.ticker, LearningCompany.company_name, current.c.package_date, current.c.version)
        .outerjoin(current, current.c.company_id == LearningCompany.id)
        .where(LearningCompany.is_active.is_not(False))
        .order_by(current.c.package_date.is_not(None), current.c.package_date, LearningCompany.ticker)
    ).all()
    items = [dict(ticker=r.ticker, company=r.company_name, package_date=r.package_date, version=r.version,
                  problem="no package yet" if r.package_date is None else
                  f"data as of {r.package_date:%b %Y}, older than {STALE_MONTHS} months")
             for r in rows if r.package_date is None or packages.is_stale(r.package_date, today)]
    return dict(count=len(items), items=items[:ITEMS])


def overdue_backups(*, actor: Actor) -> list[dict]:
    """Backup kinds older than their schedule, for the warning admins see on the home page."""
    from core import operations

    require(actor, "operations.read")
    return operations.overdue_backups()


# section -> (capability, function, page it links to)
SECTIONS = {
    "awaiting_review": ("review.read", awaiting_review, "pages/review.py"),
    "flagged_feedback": ("feedback.read", flagged_feedback, "pages/moderation.py"),
    "at_risk": ("analytics.read", at_risk, "pages/analytics.py"),
    "stale_packages": ("packages.read", stale_packages, "pages/packages.py"),
}


def summary(session: Session, *, actor: Actor, today: date | None = None) -> dict[str, dict]:
    """Every section this actor may see, in a fixed order."""
    out = {}
    for name, (capability, fn, page) in SECTIONS.items():
        if not can(actor, capability):
            continue
        kwargs = {"today": today} if name in ("at_risk", "stale_packages") else {}
        out[name] = dict(fn(session, actor=actor, **kwargs), page=page)
    return out
