"""Activity rules carry the PDF content rules and the blind-marking flag.

Until now the grading rubric, the PDF content rules and blind marking were read from the
code catalogue; rules rows stored since 0014 have neither the PDF content rules nor
`blind_marking`. This fills them where they are missing, exactly as the catalogue
applied them: every accepted PDF type gets the program's rules for that type, and no
activity was marked blind. Content revisions get the same, so restoring one made
before this migration keeps the PDF checks. Rows that already carry the fields are left
as they are. No schema change.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.coltypes import JSON

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# core/catalogue.py's PDF_RULES as of this migration (a migration does not follow later edits).
PDF_RULES = {
    "pdf_memo": {"min_words": 300, "sections": ["thesis", "valuation", "risks", "recommendation"],
                 "price_target": True},
    "pdf_deck": {"min_words": 120, "sections": ["thesis", "valuation", "recommendation"], "price_target": True},
}


def filled(rules: dict | None) -> dict | None:
    """`rules` with the PDF content rules and blind_marking it lacks; None when nothing is missing."""
    rules = dict(rules or {})
    if "blind_marking" in rules:
        return None
    pdf = dict(rules.get("pdf") or {})
    if "content" not in pdf and not any(t in pdf for t in PDF_RULES):
        types = rules.get("submission_types") or ["excel"]
        pdf["content"] = {t: dict(PDF_RULES[t]) for t in types if t in PDF_RULES}
    return {**rules, "pdf": pdf, "blind_marking": False}


def upgrade() -> None:
    bind = op.get_bind()
    content = sa.table("learning_content", sa.column("id", sa.Integer), sa.column("content_type", sa.String),
                       sa.column("rubric_criteria", JSON))
    for row in bind.execute(sa.select(content.c.id, content.c.rubric_criteria)
                            .where(content.c.content_type == "activity")).all():
        new = filled(row.rubric_criteria)
        if new is not None:
            bind.execute(content.update().where(content.c.id == row.id).values(rubric_criteria=new))
    revisions = sa.table("learning_content_revisions", sa.column("id", sa.Integer), sa.column("before", JSON),
                         sa.column("after", JSON))
    for row in bind.execute(sa.select(revisions.c.id, revisions.c.before, revisions.c.after)).all():
        values = {}
        for name in ("before", "after"):
            state = getattr(row, name)
            if isinstance(state, dict) and state.get("type") == "activity" and isinstance(state.get("rules"), dict):
                rules = filled(state["rules"])
                if rules is not None:
                    values[name] = {**state, "rules": rules}
        if values:
            bind.execute(revisions.update().where(revisions.c.id == row.id).values(**values))


def downgrade() -> None:
    # Code before 0015 ignores the added fields; removing them would lose an admin's edits.
    pass
