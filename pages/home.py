"""Home: what needs this role's attention today."""

import pandas as pd
import streamlit as st

from core import attention, config, display, ui
from core.access import Actor

actor = ui.guard()
ui.sidebar(actor)


@st.cache_data(ttl=60, show_spinner=False)
def load_summary(url: str, actor: Actor) -> dict:
    return ui.read(attention.summary, actor=actor) or {}


st.title("Home")
st.caption(f"Welcome, {actor.display_name} · {display.role_name(actor.role)}. "
           f"What needs attention, refreshed every minute. {display.zone_note()}.")
summary = load_summary(config.database_url(), actor)
if actor.can("operations.read"):
    for late in st.cache_data(ttl=60, show_spinner=False)(attention.overdue_backups)(actor=actor):
        st.warning(f"The last {late['kind']} backup was {late['age']}; it is due every {late['every']}. "
                   "See Operations.", icon=":material/backup:")

LABELS = {
    "awaiting_review": ("Awaiting review", ":material/rate_review:", "Submission review"),
    "flagged_feedback": ("Flagged feedback", ":material/flag:", "Feedback moderation"),
    "at_risk": ("At-risk students", ":material/hourglass_bottom:", "Analytics"),
    "stale_packages": ("Stale packages", ":material/inventory_2:", "Company packages"),
}
HELP = {
    "awaiting_review": "Submissions awaiting review: latest versions that no instructor has reviewed yet.",
    "flagged_feedback": "AI feedback a moderator flagged for a second look.",
    "at_risk": f"Students active before but not in the last {attention.AT_RISK_DAYS} days, capstone not submitted.",
    "stale_packages": f"Stale or missing packages: active companies whose package data is older than {attention.STALE_MONTHS} months, or missing.",
}
columns = st.columns(max(len(summary), 1))
for column, (name, section) in zip(columns, summary.items()):
    label, icon, _ = LABELS[name]
    column.metric(f"{icon} {label}", section["count"], border=True, help=HELP[name])

review = summary.get("awaiting_review")
if review is not None:
    st.subheader(":material/rate_review: Awaiting review")
    if review["count"] == 0:
        ui.empty_state("Every latest submission has been reviewed.", "New uploads appear here as they arrive.")
    else:
        parts = ", ".join(f"{n} {display.humanize(status).lower()}" for status, n in sorted(review["by_status"].items()))
        st.write(f"{display.count(review['count'], 'latest version')} not yet reviewed ({parts}). Oldest first:")
        ui.table(
            pd.DataFrame(review["items"]),
            column_config={
                "submission_id": st.column_config.NumberColumn("Submission", format="#%d"),
                "activity": "Activity", "version": st.column_config.NumberColumn("Version", format="v%d"),
                "validator": "Validator", "ticker": "Company", "submitted_at": ui.time_column("Submitted"),
            },
        )
    ui.page_link(review["page"], "Open the review queue", ":material/arrow_forward:")

flagged = summary.get("flagged_feedback")
if flagged is not None:
    st.subheader(":material/flag: Feedback")
    if flagged["count"] == 0:
        held = display.count(flagged["held"], "item")
        ui.empty_state("No feedback is flagged.", f"{held} {'is' if flagged['held'] == 1 else 'are'} held from students.")
    else:
        st.write(f"{flagged['count']} flagged, {flagged['held']} held from students. Most recent flags:")
        ui.table(
            pd.DataFrame(flagged["items"]),
            column_config={
                "feedback_id": st.column_config.NumberColumn("Feedback", format="#%d"),
                "reason": st.column_config.TextColumn("Reason", width="large"), "activity": "Activity",
                "flagged_at": ui.time_column("Flagged"),
            },
        )
    ui.page_link(flagged["page"], "Open feedback moderation", ":material/arrow_forward:")

risk = summary.get("at_risk")
if risk is not None:
    st.subheader(":material/hourglass_bottom: At-risk students")
    if risk["count"] == 0:
        ui.empty_state("No student has lapsed.",
                       f"Students appear here after {attention.AT_RISK_DAYS} days without activity, "
                       "until their capstone is in.")
    else:
        cohorts = ", ".join(f"{cohort}: {n}" for cohort, n in sorted(risk["by_cohort"].items()))
        st.write(f"{display.count(risk['count'], 'student')} {'has' if risk['count'] == 1 else 'have'} gone quiet ({cohorts}). Most recently lapsed first, "
                 "while a nudge can still bring them back:")
        ui.table(
            pd.DataFrame(risk["items"]),
            column_config={
                "student": "Student", "cohort": "Cohort",
                "last_active": ui.date_column("Last active"),
                "days_inactive": st.column_config.NumberColumn("Days inactive", format="%d d"),
                "current_activity": "Working on",
                "completion": st.column_config.ProgressColumn("Completion", min_value=0, max_value=100,
                                                              format="%.0f%%"),
            },
        )
    ui.page_link(risk["page"], "Open analytics", ":material/arrow_forward:")

stale = summary.get("stale_packages")
if stale is not None:
    st.subheader(":material/inventory_2: Company packages")
    if stale["count"] == 0:
        ui.empty_state("Every active company has a package newer than "
                       f"{attention.STALE_MONTHS} months.", None)
    else:
        st.write(f"{display.count(stale['count'], 'active company', 'active companies')} need{'s' if stale['count'] == 1 else ''} a new package (data older than "
                 f"{attention.STALE_MONTHS} months, or none yet):")
        ui.table(
            pd.DataFrame(stale["items"]),
            column_config={
                "ticker": "Ticker", "company": "Company", "problem": "Problem",
                "package_date": ui.date_column("Data as of"),
                "version": st.column_config.NumberColumn("Version", format="v%d"),
            },
        )
    ui.page_link(stale["page"], "Open company packages", ":material/arrow_forward:")
