"""The values each status column may hold, defined once.

The models build a named CHECK constraint (`ck_<table>_<column>`) from each set below,
so an unknown value is refused by the database on SQLite and PostgreSQL alike; code
that writes a status imports the name, so a misspelt name fails at import. Plain
strings only: the validators and the CLI import this without SQLAlchemy. Migration
0008 copies the sets as they were then (a migration must not change when this file
does): widening a set needs a new migration.
"""

from __future__ import annotations

# Validators (packages, submissions, validator runs). A submission is "pending" while
# its workbook waits for LibreOffice recalculation in a job; "rejected" is a file the
# validators could not read (a revalidation or a recalculation can end there).
PENDING = "pending"
BUILDING = "building"  # a package version reserved while its workbook is stored
PASSED = "passed"
FAILED = "failed"
REJECTED = "rejected"

# AI-detection of a submission's text.
CLEAN = "clean"
FLAGGED = "flagged"
NOT_RUN = "not_run"

# Feedback generation for a submission.
GENERATED = "generated"
RETRY = "retry"

# Release of a feedback item to the student.
HELD = "held"
RELEASED = "released"

PACKAGE_VALIDATION = (PENDING, BUILDING, PASSED, FAILED)
VALIDATOR = (PENDING, PASSED, FAILED, REJECTED)
# The outcome rollup copies validated submissions only.
OUTCOME = (PASSED, FAILED)
AI_DETECTION = (PENDING, CLEAN, FLAGGED, NOT_RUN)
FEEDBACK = (GENERATED, RETRY)
RELEASE = (HELD, RELEASED)

