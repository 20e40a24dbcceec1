"""Audit log viewer (admins): every staff change and every reveal, filtered by who,
what, when and target, newest first, a page at a time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from core import audit, config, display, ui

actor = ui.guard("audit.read")
ui.sidebar(actor)
st.title("Audit log")
st.caption("Who changed what, and when. " + display.zone_note() + ".")
PAGE_SIZE = 100

vocabulary = ui.read(audit.vocabulary) or {"actions": [], "target_types": []}
c1, c2, c3, c4 = st.columns(4)
who = c1.text_input("Who (name or email)", key="audit_who")
action = c2.selectbox("What", ["All", *vocabulary["actions"]], key="audit_action")
target_type = c3.selectbox("Target type", ["All", *vocabulary["target_types"]], key="audit_target_type")
target_id = c4.text_input("Target id", key="audit_target_id")
d1, d2, d3 = st.columns([1, 1, 2])
since = d1.date_input("From", value=None, key="audit_since")
until = d2.date_input("Until", value=None, key="audit_until")


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=config.program_timezone())


page = st.session_state.get("audit_page", 1)
result = ui.read(audit.search, who=who or None, action=None if action == "All" else action,
                 target_type=None if target_type == "All" else target_type, target_id=target_id or None,
                 since=_start(since) if isinstance(since, date) else None,
                 until=_start(until + timedelta(days=1)) if isinstance(until, date) else None,
                 limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE) or {"total": 0, "rows": []}
pages = max(1, -(-result["total"] // PAGE_SIZE))
d3.markdown(f"**{display.count(result['total'], 'entry', 'entries')}**")
if not result["rows"]:
    ui.empty_state("No audit entries match these filters.")
    st.stop()
st.dataframe(pd.DataFrame([{
    "When": display.when(r["when"], seconds=True), "Who": r["who"], "What": r["action"],
    "Target": f"{r['target_type'] or ''} {r['target_id'] or ''}".strip() or display.MISSING,
    "Details": display.MISSING if not r["details"] else ", ".join(f"{k}: {v}" for k, v in r["details"].items()),
} for r in result["rows"]]), hide_index=True, width="stretch", key="audit_table")
if pages > 1:
    st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key="audit_page")
