"""Cohort analytics: active students, the activity funnel, retention, time invested
against outcomes, streaks, validator failure hotspots and the at-risk list.

Every figure comes from one core.analytics function (SQL over the rollups), cached for
a minute per database, role and filter set.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core import analytics, config, display, progress, ui
from core.access import Actor

actor = ui.guard("analytics.read")
ui.sidebar(actor)
TTL = 60


def _actor(fields: tuple) -> Actor:
    return Actor(*fields)


@st.cache_data(ttl=TTL, show_spinner=False)
def _options(url: str, who: tuple) -> dict:
    return ui.read(analytics.filter_options, actor=_actor(who))


@st.cache_data(ttl=TTL, show_spinner=False)
def _chart(url: str, who: tuple, name: str, filters: tuple) -> pd.DataFrame:
    return ui.read(getattr(analytics, name), actor=_actor(who), filters=analytics.Filters(*filters))


@st.cache_data(ttl=TTL, show_spinner=False)
def _csv(url: str, who: tuple, filters: tuple) -> bytes:
    return ui.read(analytics.at_risk_csv, actor=_actor(who), filters=analytics.Filters(*filters))


st.title("Analytics")
who = (actor.id, actor.email, actor.display_name, actor.role)
url = config.database_url()
options = _options(url, who)

with st.container(horizontal=True):
    cohort = st.selectbox("Cohort", [None, *options["cohorts"]], format_func=lambda c: c or "All cohorts",
                          key="an_cohort")
    companies = dict(options["companies"])
    company = st.selectbox("Company", [None, *companies], format_func=lambda c: companies.get(c, "All companies"),
                           key="an_company")
    module = st.selectbox("Module", [None, *options["modules"]],
                          format_func=lambda m: display.title(m) if m else "All modules",
                          key="an_module")
    today = progress.today()  # in the program timezone
    period = st.date_input("Dates", value=(today - timedelta(days=179), today), key="an_dates")
start, end = (period if isinstance(period, (tuple, list)) and len(period) == 2 else (None, None))
filters = (cohort, company, module, start, end)


def chart(name: str) -> pd.DataFrame:
    return _chart(url, who, name, filters)


# --- active students ----------------------------------------------------------------
st.subheader("Active students")
active = chart("active_students")
if active.empty:
    ui.empty_state("No student activity in this selection.",
                   "Import telemetry with `ngi telemetry import FILE`, or widen the filters.")
else:
    months = active[active["granularity"] == "month"]
    latest = months.iloc[-1] if len(months) else None
    days = active[active["granularity"] == "day"]
    with st.container(horizontal=True):
        st.metric("Latest daily active", int(days.iloc[-1]["active_students"]) if len(days) else 0)
        st.metric("Latest monthly active", int(latest["active_students"]) if latest is not None else 0)
        st.metric("DAU / MAU", display.percent(latest["dau_mau"]) if latest is not None else display.MISSING,
                  help="The month's average daily actives divided by its monthly actives.")
    active = active.assign(granularity=active["granularity"].map({"day": "Daily", "week": "Weekly", "month": "Monthly"})
                           .fillna(active["granularity"]))
    figure = px.line(active, x="period_start", y="active_students", color="granularity",
                     labels={"period_start": "", "active_students": "Active students", "granularity": ""},
                     line_shape="hv")
    st.plotly_chart(figure, key="an_active_chart")

# --- funnel -------------------------------------------------------------------------
st.subheader("Activity funnel")
st.caption("Each student counted once per step, and only after reaching the earlier steps in order. "
           "'Any order' counts everyone with the step, e.g. a submission without a recorded lesson view.")
funnel = display.titled(chart("funnel"), "activity")
if funnel.empty:
    ui.empty_state("No funnel events yet in this selection.")
else:
    figure = px.funnel(funnel, x="students", y="label", color="activity",
                       labels={"label": "", "students": "Students", "activity": "Activity"})
    st.plotly_chart(figure, key="an_funnel_chart")
    with st.expander("Funnel table"):
        ui.table(funnel.drop(columns=["step"]), key="an_funnel_table", column_config={
            "activity": "Activity", "step_index": st.column_config.NumberColumn("Step", width=50),
            "label": "Step name", "students": "Students (in order)",
            "any_order": st.column_config.NumberColumn("Students (any order)")})

# --- retention ----------------------------------------------------------------------
st.subheader("Weekly retention by first-activity week")
retention = chart("retention")
if retention.empty:
    ui.empty_state("No cohorts in this selection.")
else:
    grid = retention.pivot(index="cohort_week", columns="week", values="retention")
    sizes = retention.drop_duplicates("cohort_week").set_index("cohort_week")["cohort_size"]
    grid.index = [f"Week of {display.day(week)} (n={sizes.get(week, 0)})" for week in grid.index]
    figure = px.imshow(grid, aspect="auto", color_continuous_scale="Blues", zmin=0, zmax=1,
                       labels={"x": "Weeks since first activity", "y": "Cohort", "color": "Active"})
    # Weeks a cohort has not reached yet are empty cells, not "Active: NaN".
    figure.update_traces(hoverongaps=False,
                         hovertemplate="Cohort %{y}<br>Week %{x}: %{z:.0%} active<extra></extra>")
    figure.update_coloraxes(colorbar_tickformat=".0%")
    st.plotly_chart(figure, key="an_retention_chart")

# --- time vs outcomes ---------------------------------------------------------------
st.subheader("Time invested against outcomes")
outcomes = chart("time_vs_outcomes")
if outcomes.empty:
    ui.empty_state("No validated submissions in this selection.")
else:
    figure = go.Figure()
    figure.add_bar(x=outcomes["time_invested"], y=outcomes["pass_rate"], name="Validator pass rate",
                   customdata=outcomes["students"], hovertemplate="%{y:.0%} (%{customdata} students)")
    figure.add_scatter(x=outcomes["time_invested"], y=outcomes["rubric_score"], name="Rubric score",
                       yaxis="y2", mode="lines+markers")
    figure.update_layout(yaxis={"title": "Pass rate", "tickformat": ".0%", "range": [0, 1]},
                         yaxis2={"title": "Rubric score", "overlaying": "y", "side": "right", "range": [0, 100]},
                         xaxis={"title": "Time invested"}, legend={"orientation": "h"})
    st.plotly_chart(figure, key="an_outcomes_chart")

# --- streaks ------------------------------------------------------------------------
st.subheader("Streaks")
streaks = chart("streak_distribution")
if int(streaks["students"].sum()) == 0:
    ui.empty_state("No streaks yet in this selection.")
else:
    streaks = streaks.assign(kind=streaks["kind"].map(display.humanize))
    figure = px.bar(streaks, x="streak", y="students", color="kind", barmode="group",
                    labels={"streak": "Streak (days)", "students": "Students", "kind": ""})
    st.plotly_chart(figure, key="an_streak_chart")

# --- hotspots -----------------------------------------------------------------------
st.subheader("Validator failure hotspots")
hotspots = chart("failure_hotspots")
if hotspots.empty:
    ui.empty_state("No failed validator checks in this selection.")
else:
    top = hotspots.head(15).assign(where=lambda f: f["check_id"].map(display.check_title) + " · "
                                   + f["activity"].map(display.title) + " · " + f["company"].fillna(display.MISSING))
    figure = px.bar(top.iloc[::-1], x="failures", y="where", orientation="h", hover_data=["students"],
                    labels={"where": "", "failures": "Failed checks", "students": "Students"})
    st.plotly_chart(figure, key="an_hotspot_chart")

# --- at risk ------------------------------------------------------------------------
st.subheader("At risk")
st.caption(f"Active before, no activity for {analytics.AT_RISK_DAYS}+ days, not finished.")
at_risk = chart("at_risk")
if at_risk.empty:
    ui.empty_state("Nobody is at risk in this selection.")
else:
    ui.table(
        display.titled(at_risk, "current_module", "current_unit", "current_activity"), key="an_at_risk_table",
        # The activity says where a student is; module and unit stay in the CSV, so the table fits.
        column_order=[c for c in at_risk.columns if c not in ("user_id", "current_module", "current_unit")],
        column_config={
            "student": st.column_config.TextColumn("Student", width=130),
            "email": st.column_config.TextColumn("Email", width=190),
            "cohort": st.column_config.TextColumn("Cohort", width=85),
            "company": st.column_config.TextColumn("Company", width=65),
            "last_activity_date": ui.date_column("Last active", width=95),
            "days_inactive": st.column_config.NumberColumn("Days inactive", format="%d d", width=80),
            "current_activity": st.column_config.TextColumn("Working on", width=190),
            "completion_percentage": st.column_config.ProgressColumn(
                "Completion", min_value=0, max_value=100, format="%.0f%%", width=100)},
    )
    st.download_button("Download at-risk list (CSV)", data=_csv(url, who, filters),
                       file_name=f"at-risk-{today.isoformat()}.csv", mime="text/csv", key="an_at_risk_csv")
if not actor.can("students.identify"):
    st.caption("Students are shown by alias (a keyed pseudonym, the same on every page); only admins see names.")
