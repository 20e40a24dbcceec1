"""Cohort analytics by the standard definitions (README "Analytics definitions"):
active students with a latest-complete-day headline, one funnel per activity, a
retention heatmap in percentages, time invested against outcomes, streaks, validator
failure hotspots and the at-risk list with its nudge.

Only the chosen view is built (figures are the slow half of a rerun); every figure is
one cached core call per database, role and filter set. Every chart leads to the
students behind the clicked figure (plotly selection, or the picker beside it), with
CSV/Excel export and a per-student timeline.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core import active_users, analytics, config, display, drilldown, funnels, progress, ui
from core.access import Actor

actor = ui.guard("analytics.read")
ui.sidebar(actor)
TTL = 60
VIEWS = ["Active students", "Activity funnel", "Retention", "Time and outcomes", "Streaks", "Failure hotspots",
         "At risk"]
PRESETS = {"Last 7 days": 7, "Last 28 days": 28, "Last 90 days": 90, "Last 180 days": 180,
           "This cohort's run": None, "Custom": None}


def _actor(fields: tuple) -> Actor:
    return Actor(*fields)


@st.cache_data(ttl=TTL, show_spinner=False)
def _options(url: str, who: tuple) -> dict:
    return ui.read(analytics.filter_options, actor=_actor(who))


@st.cache_data(ttl=TTL, show_spinner=False)
def _chart(url: str, who: tuple, name: str, filters: tuple) -> pd.DataFrame:
    return ui.read(getattr(analytics, name), actor=_actor(who), filters=analytics.Filters(*filters))


@st.cache_data(ttl=TTL, show_spinner=False)
def _call(url: str, who: tuple, module: str, name: str, filters: tuple | None, **kwargs):
    fn = getattr({"funnels": funnels, "drilldown": drilldown, "active_users": active_users}[module], name)
    if filters is not None:
        kwargs["filters"] = analytics.Filters(*filters)
    return ui.read(fn, actor=_actor(who), **kwargs)


@st.cache_data(ttl=TTL, show_spinner=False)
def _run_of(url: str, who: tuple, cohort: str | None) -> tuple[date | None, date | None]:
    return ui.read(active_users.cohort_run, actor=_actor(who), cohort=cohort) or (None, None)


st.title("Analytics")
who = (actor.id, actor.email, actor.display_name, actor.role)
url = config.database_url()
options = _options(url, who)
identify = actor.can("students.identify")
today = progress.today()  # in the program timezone

with st.container(horizontal=True):
    cohort = st.selectbox("Cohort", [None, *options["cohorts"]], format_func=lambda c: c or "All cohorts",
                          key="an_cohort")
    companies = dict(options["companies"])
    company = st.selectbox("Company", [None, *companies], format_func=lambda c: companies.get(c, "All companies"),
                           key="an_company")
    module = st.selectbox("Module", [None, *options["modules"]],
                          format_func=lambda m: display.title(m) if m else "All modules",
                          key="an_module")
    preset = st.selectbox("Dates", list(PRESETS), index=3, key="an_preset")
if preset == "Custom":
    period = st.date_input("From – to", value=(today - timedelta(days=179), today), key="an_dates")
    start, end = (period if isinstance(period, (tuple, list)) and len(period) == 2 else (None, None))
elif preset == "This cohort's run":
    start, end = _run_of(url, who, cohort)
else:
    start, end = today - timedelta(days=PRESETS[preset] - 1), today
filters = (cohort, company, module, start, end)
view = st.segmented_control("View", VIEWS, default=VIEWS[0], key="an_view") or VIEWS[0]


def chart(name: str) -> pd.DataFrame:
    return _chart(url, who, name, filters)


def students_panel(ids: list[int], *, what: str, key: str) -> None:
    """The students behind a figure: list, CSV/Excel export, and one student's timeline."""
    if not ids:
        st.info(f"No students behind {what}.")
        return
    frame = _call(url, who, "drilldown", "student_list", None, user_ids=tuple(ids))
    st.markdown(f"**{len(frame)} student(s) behind {what}**")
    shown = drilldown.shown(frame, actor=actor).assign(
        validator_status=lambda f: f["validator_status"].map(display.humanize))
    st.dataframe(shown, hide_index=True, key=f"{key}_list", column_config={
        "completion_percentage": st.column_config.ProgressColumn("Completion", min_value=0, max_value=100,
                                                                 format="%.0f%%"),
        "last_active": st.column_config.DateColumn("Last active"), "streak_days": "Streak (days)",
        "validator_status": "Latest validator status", "student": "Student"})
    with st.container(horizontal=True):
        st.download_button("CSV", drilldown.export_csv(frame, actor=actor), file_name=f"{key}.csv",
                           mime="text/csv", key=f"{key}_csv")
        st.download_button("Excel", drilldown.export_xlsx(frame, actor=actor), file_name=f"{key}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key=f"{key}_xlsx")
    names = {int(u): s for u, s in zip(frame["user_id"], frame["student"])}
    pick = st.selectbox("Timeline of", [None, *names], format_func=lambda u: names.get(u, "—"),
                        key=f"{key}_timeline")
    if pick is not None:
        line = _call(url, who, "drilldown", "timeline", None, user_id=int(pick))
        if line.empty:
            st.info("Nothing recorded for this student yet.")
        else:
            st.plotly_chart(px.scatter(line, x="at", y="kind", color="kind", hover_data=["what", "activity"],
                                       labels={"at": "", "kind": ""}), key=f"{key}_timeline_chart")


def clicked(event) -> list[dict]:
    """The points of a chart's selection event (st.plotly_chart returns a dict-like state)."""
    selection = event.get("selection") if isinstance(event, dict) else None
    return list(selection.get("points") or []) if isinstance(selection, dict) else []


def drill(name: str, *, what: str, key: str, **kwargs) -> None:
    """The students behind a figure: drilldown.<name> under the page's filters, listed."""
    students_panel(_call(url, who, "drilldown", name, filters, **kwargs), what=what, key=key)


def section(title: str, name: str, empty: str) -> pd.DataFrame | None:
    """A view's heading and its chart data; None (after the empty state) when there is none."""
    st.subheader(title)
    frame = chart(name)
    if frame.empty:
        ui.empty_state(empty)
        return None
    return frame


# --- active students ----------------------------------------------------------------
if view == "Active students":
    st.subheader("Active students")
    st.caption("DAU: distinct students active on a day. WAU / MAU: distinct students active in the trailing "
               "7 / 28 days ending that day. Stickiness: DAU/MAU averaged over the range.")
    compare = st.selectbox("Compare with cohort", [None, *[c for c in options["cohorts"] if c != cohort]],
                           format_func=lambda c: c or "—", key="an_compare")
    series = [(cohort or "All cohorts", filters)]
    if compare:
        series.append((compare, (compare, company, module, start, end)))
    columns = st.columns(len(series))
    frames = []
    for column, (label, chosen) in zip(columns, series):
        active = _chart(url, who, "active_students", chosen)
        head = active_users.headline(active, analytics.Filters(*chosen), today)
        frames.append(active.assign(cohort=label))
        with column:
            if head.day is None:
                st.info(f"{label}: no complete day in this range.")
                continue
            st.markdown(f"**{label}** — {head.day:%a %d %b %Y} (latest complete day)")
            with st.container(horizontal=True):
                st.metric("DAU", head.dau)
                st.metric("WAU", head.wau)
                st.metric("MAU", head.mau)
                st.metric("Stickiness", f"{head.stickiness:.0%}" if head.stickiness is not None else "–",
                          help="DAU/MAU per day, averaged over the selected range up to the latest complete day.")
    both = pd.concat(frames) if frames else pd.DataFrame()
    if both.empty or int(both["mau"].sum()) == 0:
        ui.empty_state("No student activity in this selection.",
                       "Import telemetry with `ngi telemetry import FILE`, or widen the filters.")
    else:
        long = both.melt(id_vars=["day", "cohort"], value_vars=["dau", "wau", "mau"], var_name="measure",
                         value_name="students")
        long["series"] = long["measure"].str.upper() + ("" if not compare else " · " + long["cohort"])
        figure = px.line(long, x="day", y="students", color="series", labels={"day": "", "students": "Students",
                                                                              "series": ""})
        event = st.plotly_chart(figure, key="an_active_chart", on_select="rerun", selection_mode="points")
        points = clicked(event)
        day_options = list(pd.to_datetime(both["day"]).dt.date.unique())[::-1]
        picked = st.selectbox("Students active on", [None, *day_options], key="an_active_day",
                              format_func=lambda d: "—" if d is None else f"{d:%d %b %Y}")
        window = st.radio("Window", [1, 7, 28], horizontal=True, key="an_active_window",
                          format_func={1: "that day (DAU)", 7: "7 days (WAU)", 28: "28 days (MAU)"}.get)
        if points:
            picked = pd.to_datetime(points[0]["x"]).date()
            window = {"DAU": 1, "WAU": 7, "MAU": 28}.get(str(points[0].get("legendgroup", "DAU"))[:3], window)
        if picked is not None:
            drill("active_ids", what=f"{window}-day actives on {picked:%d %b %Y}", key="an_active", day=picked,
                  window=int(window))

# --- funnel -------------------------------------------------------------------------
elif view == "Activity funnel":
    st.subheader("Activity funnel")
    st.caption("Each student counted once per step, and only after reaching the earlier steps in order. "
               "Click a bar (or pick a step) to see the students.")
    acts = _call(url, who, "funnels", "activities", None)
    if not acts:
        ui.empty_state("No funnel events yet in this selection.")
    else:
        activity = st.selectbox("Activity", acts, key="an_funnel_activity", format_func=display.title)
        steps = _call(url, who, "funnels", "activity_funnel", filters, activity=activity)
        text = [f"{n:,}" + ("" if pd.isna(p) else f" · {p:.0f}% of previous · {f:.0f}% of first")
                for n, p, f in zip(steps["students"], steps["pct_previous"], steps["pct_first"])]
        figure = go.Figure(go.Bar(x=steps["students"], y=steps["label"], orientation="h", text=text,
                                  customdata=steps["step_index"], textposition="auto"))
        figure.update_layout(yaxis={"autorange": "reversed"}, xaxis={"title": "Students"}, clickmode="event+select")
        event = st.plotly_chart(figure, key="an_funnel_chart", on_select="rerun", selection_mode="points")
        st.dataframe(steps.drop(columns=["step", "step_index"]), hide_index=True, key="an_funnel_table",
                     column_config={"label": "Step", "pct_previous": "% of previous", "pct_first": "% of first",
                                    "median_minutes": "Median minutes from previous step"})
        points = clicked(event)
        step = st.selectbox("Students at step", [None, *steps["step_index"]], key="an_funnel_step",
                            format_func=lambda n: "—" if n is None else steps.set_index("step_index").loc[n, "label"])
        if points:
            step = int(points[0].get("point_index", 0)) + 1
        if step is not None:
            ids = _call(url, who, "funnels", "step_students", filters, activity=activity, step_index=int(step))
            label = steps.set_index("step_index").loc[int(step), "label"]
            students_panel(ids, what=f"“{label}” in {display.title(activity)}", key="an_funnel")

# --- retention ----------------------------------------------------------------------
elif view == "Retention":
    retention = section("Weekly retention by first-activity week", "retention", "No cohorts in this selection.")
    if retention is not None:
        grid = retention.pivot(index="cohort_week", columns="week", values="retention")
        sizes = retention.drop_duplicates("cohort_week").set_index("cohort_week")["cohort_size"]
        weeks = list(grid.index)
        grid.index = [f"{week} (n={sizes.get(week, 0)})" for week in grid.index]
        figure = px.imshow(grid, aspect="auto", color_continuous_scale="Blues", zmin=0, zmax=100, text_auto=".0f",
                           labels={"x": "Weeks since first activity", "y": "Cohort", "color": "% active"})
        event = st.plotly_chart(figure, key="an_retention_chart", on_select="rerun", selection_mode="points")
        cell = None
        points = clicked(event)
        if points:
            cell = (weeks[[str(i) for i in grid.index].index(str(points[0]["y"]))], int(points[0]["x"]))
        pick = st.selectbox("Students of cohort", [None, *weeks], key="an_retention_cohort",
                            format_func=lambda w: "—" if w is None else str(w))
        week = st.number_input("Weeks since", min_value=0, max_value=int(grid.columns.max()), value=0, step=1,
                               key="an_retention_week")
        if cell is None and pick is not None:
            cell = (pick, int(week))
        if cell is not None:
            drill("retention_ids", what=f"cohort {cell[0]}, week {cell[1]}", key="an_retention",
                  cohort_week=cell[0], week=cell[1])

# --- time vs outcomes ---------------------------------------------------------------
elif view == "Time and outcomes":
    outcomes = section("Time invested against outcomes", "time_vs_outcomes",
                       "No validated submissions in this selection.")
    if outcomes is not None:
        st.caption("Click a bar, or drag a box over several, to see the students; or pick a bucket below.")
        figure = go.Figure()
        figure.add_bar(x=outcomes["time_invested"], y=outcomes["pass_rate"], name="Validator pass rate",
                       customdata=outcomes["students"], hovertemplate="%{y:.0%} (%{customdata} students)")
        figure.add_scatter(x=outcomes["time_invested"], y=outcomes["rubric_score"], name="Rubric score",
                           yaxis="y2", mode="lines+markers")
        figure.update_layout(yaxis={"title": "Pass rate", "tickformat": ".0%", "range": [0, 1]},
                             yaxis2={"title": "Rubric score", "overlaying": "y", "side": "right", "range": [0, 100]},
                             xaxis={"title": "Time invested"}, legend={"orientation": "h"}, dragmode="select")
        event = st.plotly_chart(figure, key="an_outcomes_chart", on_select="rerun", selection_mode=("points", "box"))
        st.dataframe(outcomes, hide_index=True, key="an_outcomes_table")
        buckets = drilldown.selection_targets(clicked(event), field="x")
        bucket = st.selectbox("Students who invested", [None, *outcomes["time_invested"]], key="an_outcomes_pick",
                              format_func=lambda b: b or "—")
        if buckets:
            drill("selection_ids", what=f"{', '.join(buckets)} invested", key="an_outcomes", chart="time",
                  targets=buckets)
        elif bucket is not None:
            drill("time_ids", what=f"{bucket} invested", key="an_outcomes", time_invested=bucket)

# --- streaks ------------------------------------------------------------------------
elif view == "Streaks":
    st.subheader("Streaks")
    streaks = chart("streak_distribution")
    if int(streaks["students"].sum()) == 0:
        ui.empty_state("No streaks yet in this selection.")
    else:
        figure = px.bar(streaks, x="streak", y="students", color="kind", barmode="group",
                        labels={"streak": "Streak (days)", "students": "Students", "kind": ""})
        event = st.plotly_chart(figure, key="an_streak_chart", on_select="rerun", selection_mode="points")
        points = clicked(event)
        bars = [(k, n) for k in ("current", "longest") for n in streaks["streak"].unique()]
        bar = st.selectbox("Students with streak", [None, *bars], key="an_streak_pick",
                           format_func=lambda b: "—" if b is None else f"{b[0]} {b[1]} days")
        if points:
            bar = (["current", "longest"][int(points[0].get("curve_number", 0))], str(points[0]["x"]))
        if bar is not None:
            drill("streak_ids", what=f"a {bar[0]} streak of {bar[1]} days", key="an_streak", kind=bar[0],
                  streak=bar[1])

# --- hotspots -----------------------------------------------------------------------
elif view == "Failure hotspots":
    hotspots = section("Validator failure hotspots", "failure_hotspots", "No failed validator checks in this selection.")
    if hotspots is not None:
        st.caption("Click a bar, or drag a box over several, to see the students; or pick a check below.")
        top = hotspots.head(15).assign(where=lambda f: f["check_id"] + " · " + f["activity"] + " · " + f["company"])
        figure = px.bar(top.iloc[::-1], x="failures", y="where", orientation="h", hover_data=["students"],
                        custom_data=["check_id", "activity"], labels={"where": "", "failures": "Failed checks"})
        figure.update_layout(dragmode="select")
        event = st.plotly_chart(figure, key="an_hotspot_chart", on_select="rerun", selection_mode=("points", "box"))
        st.dataframe(hotspots, hide_index=True, key="an_hotspot_table")
        selected = drilldown.selection_targets(clicked(event), field="customdata")
        spots = list(zip(top["check_id"], top["activity"]))
        spot = st.selectbox("Students failing", [None, *dict.fromkeys(spots)], key="an_hotspot_pick",
                            format_func=lambda c: "—" if c is None else
                            f"{display.check_title(c[0])} · {display.title(c[1])}")
        if selected:
            what = ", ".join(f"{display.check_title(c)} · {display.title(a)}" for c, a in selected)
            drill("selection_ids", what=f"{what} failures", key="an_hotspot", chart="hotspot", targets=selected)
        elif spot is not None:
            drill("hotspot_ids", what=f"{display.check_title(spot[0])} failures", key="an_hotspot",
                  check_id=spot[0], activity=spot[1])

# --- at risk ------------------------------------------------------------------------
else:
    st.subheader("At risk")
    st.caption(f"Active before, no activity for {analytics.AT_RISK_DAYS}+ days, not finished.")
    ids = _call(url, who, "drilldown", "at_risk_ids", filters)
    if not ids:
        ui.empty_state("Nobody is at risk in this selection.")
    else:
        students_panel(ids, what="the at-risk figure", key="an_at_risk")
        if identify:
            st.markdown("**Nudge** — nothing is sent from here: copy the link into your mail client.")
            frame = _call(url, who, "drilldown", "student_list", None, user_ids=tuple(ids))
            names = {int(u): s for u, s in zip(frame["user_id"], frame["student"])}
            chosen = st.multiselect("Students to nudge", list(names), format_func=names.get, key="an_nudge_pick")
            if chosen:
                contacts = ui.read(drilldown.contacts, actor=actor, user_ids=chosen)
                link = drilldown.mailto(contacts["email"])
                with st.container(horizontal=True):
                    st.download_button("Contact list (CSV)", drilldown.contacts_csv(contacts),
                                       file_name=f"contacts-{today.isoformat()}.csv", mime="text/csv",
                                       key="an_nudge_contacts")
                    st.link_button("Open email (BCC)", link)
                    if st.button("Record nudge sent", key="an_nudge_record"):
                        ui.write(drilldown.record_nudge, user_ids=chosen, channel="mailto",
                                 success=f"Nudge recorded for {len(chosen)} student(s).")
                st.code(link, language=None)
if not identify:
    st.caption("Students are shown by alias (a keyed pseudonym, the same on every page); only admins see names.")
