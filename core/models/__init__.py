"""Every ORM class: the eight `learning_*` tables of the schema appendix, the
platform's `students` table (modelled minimally; the platform owns it), the staff
tables, and the columns later migrations added (listed in the README).

Index names follow the appendix (`idx_*`); everything unnamed gets a name from the
metadata's naming convention.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, event

from core import statuses
from core.db import Base
from core.models.companies import LearningCompany, LearningLeaderboard, LearningPackage
from core.models.content import ContentPrerequisite, ContentRevision
from core.models.grades import LearningGrade
from core.models.jobs import LearningJob
from core.models.staff import STAFF_ROLES, AuditLog, StaffSession, StaffUser
from core.models.students import ErasureRecord, LearningContent, LearningProgress, Student
from core.models.submissions import (
    FeedbackFailure,
    LearningFeedback,
    LearningSubmission,
    ValidatorRun,
)
from core.models.telemetry import (
    ActivityFunnel,
    LearningTelemetry,
    SubmissionOutcome,
    TelemetryDaily,
    TelemetryKey,
    TelemetryStudentState,
    ValidatorCheckFailure,
)

__all__ = [
    "STAFF_ROLES", "ActivityFunnel", "AuditLog", "ContentPrerequisite", "ContentRevision", "ErasureRecord", "FeedbackFailure", "LearningCompany", "LearningContent",
    "LearningFeedback", "LearningGrade", "LearningJob", "LearningLeaderboard", "LearningPackage", "LearningProgress",
    "LearningSubmission", "LearningTelemetry", "StaffSession", "StaffUser", "Student", "SubmissionOutcome", "TelemetryDaily",
    "TelemetryKey", "TelemetryStudentState", "ValidatorCheckFailure", "ValidatorRun",
]


# Descending indexes from the appendix; declared on the columns so autogenerate can
# compare them with what the database reflects.
Index("idx_learning_packages_date", LearningPackage.package_date.desc())
Index("idx_learning_leaderboard_date", LearningLeaderboard.valuation_date.desc())
Index("idx_learning_telemetry_timestamp", LearningTelemetry.event_timestamp.desc())


# --- Status columns (migration 0008) -----------------------------------------------
# Each accepts only its values from core.statuses: a named CHECK constraint
# (ck_<table>_<column>) refuses anything else on both engines. NULL passes, as in any
# CHECK, so nullable columns stay nullable. learning_feedback.release_state has had its
# constraint since 0004 (statuses.RELEASE; tests/test_statuses.py keeps them equal).


def _allowed(model: type[Base], column_name: str, values: tuple[str, ...]) -> None:
    table = Base.metadata.tables[model.__tablename__]
    table.append_constraint(CheckConstraint(table.c[column_name].in_(values), name=column_name))


_allowed(LearningPackage, "validation_status", statuses.PACKAGE_VALIDATION)
_allowed(LearningSubmission, "validator_status", statuses.VALIDATOR)
_allowed(LearningSubmission, "ai_detection_status", statuses.AI_DETECTION)
_allowed(LearningSubmission, "feedback_status", statuses.FEEDBACK)
_allowed(ValidatorRun, "status", statuses.VALIDATOR)
_allowed(SubmissionOutcome, "validator_status", statuses.OUTCOME)


# validator_errors has one shape, the flat findings list, whatever a writer hands it.
def _flat_validator_errors(target, value, oldvalue, initiator):
    from core.validation.report import flat_errors

    return flat_errors(value)


event.listen(LearningSubmission.validator_errors, "set", _flat_validator_errors, retval=True)
