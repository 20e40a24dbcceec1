"""Feedback moderation: the queue beside each item's validator report and prompt, admin
actions (flag, edit, regenerate, hold/release), the cost panel and the agreement table.
Instructors and program leads see everything read-only; core refuses their writes too."""

from __future__ import annotations

from datetime import date

import plotly.express as px
import streamlit as st

from core import config, display, grading, jobs, queue_cursor, ui
from core.db import utcnow
from core.feedback import editing, moderation, pricing
from core.feedback.personas import PERSONAS

actor = ui.guard("feedback.read")
ui.sidebar(actor)
st.html("<style>.stMainBlockContainer {padding-top: 2.5rem}</style>")  # one screen: less empty top
st.title("Feedback moderation")
moderator = actor.can("feedback.moderate")
if not moderator:
    st.caption("Read-only view: only admins can flag, edit, regenerate, hold or release feedback.")


@st.cache_data(ttl=30, show_spinner=False)
def load_queue(url: str, who, filters: tuple):
    return ui.read(moderation.queue, actor=who, **dict(filters))  # one page: limit and offset are in `filters`


@st.cache_data(ttl=30, show_spinner=False)
def load_options(url: str, who):
    return ui.read(moderation.filter_options, actor=who), ui.read(moderation.flagged_count, actor=who)


@st.cache_data(ttl=60, show_spinner=False)
def load_costs(url: str, who, today: date):
    return ui.read(moderation.cost_panel, actor=who, today=today)


@st.cache_data(ttl=60, show_spinner=False)
def load_agreement(url: str, who):
    return ui.read(moderation.agreement, actor=who), ui.read(moderation.retry_queue, actor=who)


@st.cache_data(ttl=60, show_spinner=False)
def load_grade_agreement(url: str, who):
    return ui.read(grading.agreement, actor=who)


@st.cache_data(ttl=15, show_spinner=False)
def load_parked(url: str, who):
    return ui.read(jobs.parked, actor=who)


url = config.database_url()
options, flagged = load_options(url, actor)
parked_jobs = load_parked(url, actor)
parked_count = 0 if parked_jobs is None else len(parked_jobs)
queue_tab, cost_tab, agreement_tab, jobs_tab = st.tabs(
    [f"Queue ({flagged} flagged)", "Cost", "Agreement", f"Background jobs ({parked_count} parked)"])

PAGE_SIZE = 20
STATES = {"held": "Held", "released": "Released", "All": "All"}
PROVIDERS = {"openai": "OpenAI", "rubric": "Rubric coach"}


@st.cache_data(ttl=30, show_spinner=False)
def load_ids(url: str, who, filters: tuple) -> list[int]:
    return ui.read(moderation.queue_ids, actor=who, **dict(filters)) or []


@st.cache_data(ttl=30, show_spinner=False)
def load_item(url: str, who, feedback_id: int):
    return ui.read(moderation.item, actor=who, feedback_id=feedback_id)


with queue_tab:
    c1, c2, c3, c4, c5, c6 = st.columns([1, 1, 1.6, 1.2, 1.2, 1], vertical_alignment="bottom")
    state = c1.selectbox("State", list(STATES), key="mod_state", format_func=STATES.get)
    flag_choice = c2.selectbox("Flagged", ["All", "Flagged", "Not flagged"], key="mod_flagged")
    activity = c3.selectbox("Activity", ["All", *options["activity"]], key="mod_activity",
                            format_func=lambda v: v if v == "All" else display.title(v))
    persona = c4.selectbox("Persona", ["All", *options["persona"]], key="mod_persona",
                           format_func=lambda v: v if v == "All" else display.humanize(v))
    model = c5.selectbox("Model", ["All", *options["model"]], key="mod_model")
    with c6.popover("More filters", width="stretch"):
        dates = st.date_input("Created between", value=(), key="mod_dates")
        band = st.slider("Composite score band", 0, 100, (0, 100), key="mod_band")
    filters = tuple(sorted({
        "flagged": {"All": None, "Flagged": True, "Not flagged": False}[flag_choice],
        "activity": None if activity == "All" else activity,
        "persona": None if persona == "All" else persona,
        "model": None if model == "All" else model,
        "release_state": None if state == "All" else state,
        "date_from": dates[0] if len(dates) >= 1 else None,
        "date_to": dates[1] if len(dates) == 2 else (dates[0] if len(dates) == 1 else None),
        "score_min": None if band == (0, 100) else band[0],
        "score_max": None if band == (0, 100) else band[1],
    }.items()))
    ids = load_ids(url, actor, filters)

    queue = queue_cursor.cursor(
        st.session_state, "mod", ids=ids, filters=filters, page_size=PAGE_SIZE,
        load_page=lambda n: load_queue(url, actor, (*filters, ("limit", PAGE_SIZE), ("offset", (n - 1) * PAGE_SIZE))),
        row_ids=lambda frame: [int(i) for i in frame["id"]])
    current, table = queue.current, queue.rows
    page_ids, position = [int(i) for i in table["id"]], (queue.position or 1) - 1

    queue_side, item_side = st.columns([1.05, 2], gap="medium")
    with queue_side:
        st.markdown(f"**{display.count(len(ids), 'item')}** in this view" if ids else "**Nothing** in this view")
        if table.empty:
            ui.empty_state("No feedback matches these filters.",
                           "Feedback appears here once a submission passes its validators; try State “All”.")
        shown_table = display.local_times(table.assign(
            open=["▶" if i == current else "" for i in page_ids],
            activity=table["activity"].map(display.title), persona=table["persona"].map(display.humanize),
            release_state=table["release_state"].map(display.humanize)))
        st.dataframe(
            shown_table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
            key="mod_queue", placeholder=display.MISSING, height=min(35 * (len(table) + 1) + 3, 600),
            column_order=["open", "student", "composite", "is_flagged",
                          *(["release_state"] if state == "All" else []), "activity", "persona", "created_at"],
            column_config={
                "open": st.column_config.TextColumn("Open", width=48),
                "student": "Student", "activity": "Activity", "persona": "Persona", "release_state": "State",
                "composite": st.column_config.NumberColumn("Composite", format="%.1f"),
                "is_flagged": st.column_config.CheckboxColumn("Flagged"),
                "created_at": ui.time_column("Created")})
        if queue.page_count > 1:
            st.number_input(f"Page (of {queue.page_count})", min_value=1, max_value=queue.page_count, step=1,
                            key="mod_page", on_change=queue.forget_click)
        ui.zone_note()

    shown = load_item(url, actor, current) if current is not None else None
    if shown is not None:
        fid = shown["id"]
        with item_side:
            n1, n2, n3 = st.columns([1, 2, 1])
            n1.button("Previous", icon=":material/arrow_back:", key="mod_prev", width="stretch", disabled=position == 0,
                      on_click=queue.step, args=(-1,))
            n2.markdown(f"**{position + 1} of {len(ids)}** in this view")
            n3.button("Next", icon=":material/arrow_forward:", key="mod_next", width="stretch",
                      disabled=position >= len(ids) - 1, on_click=queue.step, args=(1,))
            st.subheader(f"{shown['student']} · {display.title(shown['activity'])} v{shown['version']}")
            st.markdown(f"**{display.humanize(shown['release_state'])}**"
                        + (" · :red[**flagged**]" if shown["is_flagged"] else "")
                        + f" · {shown['company']} · {display.humanize(shown['persona'])} · "
                        f"{PROVIDERS.get(shown['provider'], display.humanize(shown['provider']))} / "
                        f"{display.text(shown['model'])} · "
                        f"created {display.when(shown['created_at'])}")
            if shown["hold_reasons"]:
                st.warning(" · ".join(shown["hold_reasons"]))
            if shown["is_flagged"]:
                st.error(f"Flagged: {shown['flag_reason']}")
            who = f"{shown['student']}'s feedback"
            if moderator:
                r1, r2, r3 = st.columns([2.6, 1, 1.3], vertical_alignment="bottom")
                reason = r1.text_input("Reason (for flag, unflag and hold)", key=f"mod_reason_{fid}")
                if not shown["is_flagged"] and r2.button("Flag", key="mod_flag", width="stretch"):
                    ui.write(moderation.flag, feedback_id=fid, reason=reason,
                             success=lambda _: [("toast", f"{who} flagged.")])
                if shown["is_flagged"] and r2.button("Unflag", key="mod_unflag", width="stretch"):
                    ui.write(moderation.unflag, feedback_id=fid, reason=reason,
                             success=lambda _: [("toast", f"Flag cleared on {who}.")])
                if shown["release_state"] == "released" and r3.button("Hold", key="mod_hold", width="stretch"):
                    ui.write(moderation.hold, feedback_id=fid, reason=reason,
                             success=lambda _: [("toast", f"{who} held.")])
                if shown["release_state"] == "held" and r3.button("Release", key="mod_release", type="primary",
                                                                   width="stretch", help="Release to the student"):
                    ui.write(moderation.release, feedback_id=fid,
                             success=lambda _: [("toast", f"{who} released to the student.")])

            text_side, report_side = st.columns([1.25, 1], gap="small")
            with text_side:
                if moderator:
                    with st.form(f"mod_edit_{fid}", border=False):
                        text = st.text_area("Summary", value=shown["feedback_text"], height=150, key=f"mod_text_{fid}")
                        lists = {}
                        for title, key in (("Strengths", "strengths"), ("Areas for improvement", "areas_for_improvement"),
                                           ("Specific suggestions", "specific_suggestions")):
                            lists[key] = st.text_area(f"{title} (one per line)", value="\n".join(shown[key] or []),
                                                      key=f"mod_{key}_{fid}", height=90)
                        score_columns = st.columns(4)
                        new_scores = {name: score_columns[i].number_input(
                            display.humanize(name), min_value=0.0, max_value=100.0, step=1.0,
                            value=float(shown["scores"].get(name) or 0), key=f"mod_score_{name}_{fid}")
                            for i, name in enumerate(("accuracy", "documentation", "presentation", "reasoning"))}
                        saved = st.form_submit_button("Save edit", key="mod_save", type="primary")
                    if saved:
                        def checked(result) -> list[tuple[str, str]]:
                            if not result["flags"]:
                                return [("toast", f"{who} edited; the automatic checks pass.")]
                            return [("toast", f"{who} edited and held: " + " ".join(
                                f["message"] for f in result["flags"]))]

                        ui.write(editing.edit_feedback, feedback_id=fid, text=text,
                                 strengths=lists["strengths"].splitlines(),
                                 improvements=lists["areas_for_improvement"].splitlines(),
                                 suggestions=lists["specific_suggestions"].splitlines(), scores=new_scores, success=checked)
                else:
                    st.markdown(shown["feedback_text"])
                    for title, key in (("Strengths", "strengths"), ("Areas for improvement", "areas_for_improvement"),
                                       ("Specific suggestions", "specific_suggestions")):
                        if shown[key]:
                            st.markdown(f"**{title}**\n" + "\n".join(f"- {item}" for item in shown[key]))
                    st.dataframe([{display.humanize(k): v for k, v in shown["scores"].items()}], hide_index=True)
                if shown["original_text"]:
                    with st.expander("Original text (before moderator edits)"):
                        st.markdown(shown["original_text"])
            with report_side:
                st.markdown(f"**Validator report · {display.humanize(shown['validator_status'])}**")
                for check in shown["validator_report"]["checks"]:
                    icon = {"passed": ":green[:material/check_circle:]", "warning": ":orange[:material/warning:]",
                            "failed": ":red[:material/cancel:]"}.get(check.get("status"), "•")
                    st.markdown(f"{icon} **{display.check_title(check.get('id'))}** — "
                                f"{display.humanize(check.get('status'))}")
                    for finding in check.get("findings", []):
                        where = "!".join(str(finding[k]) for k in ("sheet", "cell") if finding.get(k))
                        st.caption(f"{where} {finding.get('period', '')}: {finding.get('message', '')} "
                                   f"(expected {finding.get('expected')}, actual {finding.get('actual')})")
                tokens = shown["tokens"]
                st.caption(f"Tokens in {display.integer(tokens['in'])} (cached {display.integer(tokens['cached'])}) · "
                           f"out {display.integer(tokens['out'])} · cost ${shown['cost_usd'] or 0:.6f}")
                if len(shown["versions"]) > 1:
                    st.caption("Other versions for this submission: " + ", ".join(
                        f"{display.humanize(v['persona'])} / {display.text(v['model'])} ({display.when(v['created_at'])})"
                        for v in shown["versions"] if v["id"] != fid))
                with st.expander("Prompt sent to the provider"):
                    st.caption("System")
                    st.code(shown["prompt"].get("system", ""), language=None, wrap_lines=True)
                    st.caption("User")
                    st.code(shown["prompt"].get("user", ""), language=None, wrap_lines=True)
                    for note in shown["prompt"].get("notices") or []:
                        st.info(note)
                for failure in shown["failures"]:
                    with st.expander(f"Failed generation, {display.when(failure['created_at'])} "
                                     f"({display.humanize(failure['provider'])})"):
                        st.write(failure["error"])
                        if failure["raw_reply"]:
                            st.code(failure["raw_reply"], language=None, wrap_lines=True)
                if moderator:
                    with st.expander("Regenerate (keeps this version)"):
                        new_persona = st.selectbox(
                            "Persona", list(PERSONAS), format_func=display.humanize, key=f"mod_regen_persona_{fid}",
                            index=list(PERSONAS).index(shown["persona"]) if shown["persona"] in PERSONAS else 0)
                        provider = st.selectbox("Provider", ["rubric", "openai"], key=f"mod_regen_provider_{fid}",
                                                format_func=display.humanize)
                        new_model = st.text_input("Model (openai only)", value=config.env("NGI_OPENAI_MODEL") or "",
                                                  key=f"mod_regen_model_{fid}")
                        if st.button("Regenerate", key="mod_regenerate"):
                            def regenerated(outcome) -> list[tuple[str, str]]:
                                if not outcome.ok:
                                    return [("toast", f"Regeneration failed and was recorded: {outcome.error}")]
                                extra = " " + " ".join(outcome.notices) if outcome.notices else ""
                                return [("toast", f"New feedback generated for {shown['student']}.{extra}")]

                            ui.write(moderation.regenerate, feedback_id=fid, persona=new_persona, provider=provider,
                                     model=new_model if provider == "openai" else None, success=regenerated)

with cost_tab:
    panel = load_costs(url, actor, pricing.local_day(utcnow()))
    m1, m2, m3, m4, m5 = st.columns(5)
    m1.metric("Spent today", f"${panel['day']['spent_usd']:,.4f}",
              help=f"Daily cap ${panel['day']['budget_usd']:,.2f}; past it the rubric coach takes over.")
    m2.metric(f"Budget left this month (of ${panel['month']['budget_usd']:,.0f})",
              f"${panel['month']['remaining_usd']:,.2f}")
    m3.metric(f"Average per submission ({panel['days']} days)", f"${panel['avg_per_submission_usd']:,.4f}")
    m4.metric("Tokens in", f"{panel['tokens']['tokens_in']:,}",
              help=f"{panel['tokens']['tokens_cached']:,} of them served from the prompt cache")
    m5.metric("Tokens out", f"{panel['tokens']['tokens_out']:,}")
    if panel["total_usd"] == 0:
        ui.empty_state(f"No OpenAI spend in the last {panel['days']} days.",
                       "The offline rubric coach costs nothing; spend appears once OPENAI_API_KEY is set.")
    st.plotly_chart(px.bar(panel["per_day"], x="day", y="cost_usd", title="Spend per day (USD)"), key="cost_day")
    cm, ca = st.columns(2)
    if not panel["per_model"].empty:
        cm.plotly_chart(px.bar(panel["per_model"], x="model", y="cost_usd", title="Spend per model (USD)"),
                        key="cost_model")
    if not panel["per_activity"].empty:
        per_activity = display.titled(panel["per_activity"], "activity")
        ca.plotly_chart(px.bar(per_activity, x="activity", y="avg_per_submission",
                               title="Average spend per submission by activity (USD)"), key="cost_activity")
        st.dataframe(per_activity, hide_index=True)

with agreement_tab:
    versus = load_grade_agreement(url, actor) or {"n": 0}
    st.markdown("**AI composite against the instructor's grade** (the grade is the grade; the composite is a "
                "second opinion)")
    if not versus["n"]:
        ui.empty_state("No submission has both an instructor grade and an AI composite yet.")
    else:
        g1, g2, g3 = st.columns(3)
        g1.metric("Graded submissions compared", display.integer(versus["n"]))
        g2.metric("Mean difference (AI − instructor)", display.number(versus["mean_difference"], 1),
                  help="Positive: the AI scores higher than the instructors on average.")
        g3.metric("Correlation (Pearson)", display.number(versus["correlation"], 2))
        st.dataframe([{"Submission": p["submission_id"], "Activity": display.title(p["activity_id"]),
                       "Instructor": p["instructor"], "AI": p["ai"], "Difference": p["difference"]}
                      for p in versus["largest"]], hide_index=True, key="mod_disagreements")
    agreement, retries = load_agreement(url, actor)
    st.caption("How often moderators edited or flagged feedback, per persona and model: a prompt that keeps "
               "being corrected shows up here as a pattern.")
    if agreement.empty:
        ui.empty_state("No feedback yet.")
    else:
        if "persona" in agreement.columns:
            agreement = agreement.assign(persona=agreement["persona"].map(display.humanize))
        st.dataframe(agreement, hide_index=True,
                     column_config={"edit_rate": st.column_config.NumberColumn(format="percent"),
                                    "flag_rate": st.column_config.NumberColumn(format="percent")})
    st.subheader("Waiting for a retry")
    if retries.empty:
        st.caption("No submission is waiting: every passed submission has feedback or has not been tried.")
    else:
        ui.table(display.titled(retries, "activity", "activity_id"),
                 column_config={"failed_at": ui.time_column("Failed")})
        if moderator and st.button("Retry all now", key="mod_retry"):
            results = [ui.write(moderation.retry, submission_id=int(s), rerun=False) for s in retries["submission_id"]]
            done = sum(1 for r in results if r is not None and r.ok)
            st.success(f"Retried {len(results)} waiting submissions; {done} now have feedback.")

with jobs_tab:
    st.caption("Recalculation, AI-detection and feedback run in the background after an upload. A job that "
               "keeps failing is tried again with growing waits, then parked here until someone retries it.")
    if parked_jobs is None or parked_jobs.empty:
        ui.empty_state("No parked jobs: every background job has finished or is still being tried.")
    else:
        st.dataframe(display.titled(parked_jobs.drop(columns=["job_id"]), "activity"), hide_index=True,
                     column_config={"last_error": st.column_config.TextColumn("Last error", width="large")})
        if moderator:
            labels = {int(r.job_id): f"{r.task} · {r.student or 'removed student'} · {display.title(r.activity)} "
                                     f"v{r.version or '?'}" for r in parked_jobs.itertuples()}
            chosen = st.selectbox("Parked job", list(labels), format_func=labels.get, key="mod_jobs_pick")
            if st.button("Retry this job", key="mod_jobs_retry"):
                ui.write(jobs.retry, job_id=chosen, success=f"{labels[chosen]}: back in the queue.")
