"""Submission review: one screen per item. The filtered queue (a selectable, paged table)
on the left, the item (identity, status, navigation, the findings beside the workbook
sheet they point at, history and diff, feedback) in the middle, the grading form and the
primary actions on the right, all within reach at 1440×900. Keyboard: j / k next /
previous, g grade form."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core import config, display, grading, queue_cursor, review, submission_files, ui

actor = ui.guard("review.read")
ui.sidebar(actor)
url = config.database_url()
can_act = actor.can("review.act")
can_grade = actor.can("grades.grade")
PAGE_SIZE = 25
SHOW = {"Needs review": "needs_review", "In progress": "in_progress", "Graded": "graded", "Released": "released",
        "All": None}
LISTED = {"Needs review": "need review", "In progress": "are in progress", "Graded": "are graded, not yet released",
          "Released": "are released"}

toast = st.session_state.pop("rv_toast", None)
if toast:
    st.toast(toast, icon=":material/check_circle:")


@st.cache_data(ttl=30, show_spinner=False)
def load_ids(url: str, filters: review.QueueFilters, _actor) -> list[int]:
    return ui.read(review.queue_ids, actor=_actor, filters=filters) or []


@st.cache_data(ttl=30, show_spinner=False)
def load_rows(url: str, filters: review.QueueFilters, page: int, _actor) -> list[dict]:
    return ui.read(review.queue, actor=_actor, filters=filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE) or []


@st.cache_data(ttl=30, show_spinner=False)
def load_progress(url: str, filters: review.QueueFilters, _actor) -> dict:
    return ui.read(review.queue_progress, actor=_actor, filters=filters) or {"total": 0, "graded": 0}


@st.cache_data(ttl=60, show_spinner=False)
def load_options(url: str, _actor) -> dict:
    return ui.read(review.filter_options, actor=_actor) or {"companies": [], "cohorts": []}


@st.cache_data(ttl=30, show_spinner=False)
def load_detail(url: str, submission_id: int, _actor) -> dict | None:
    return ui.read(review.detail, actor=_actor, submission_id=submission_id)


@st.cache_data(ttl=30, show_spinner=False)
def load_grade(url: str, submission_id: int, _actor) -> dict | None:
    return ui.read(grading.grade_sheet, actor=_actor, submission_id=submission_id)


@st.cache_data(ttl=300, show_spinner=False)
def load_sheet(url: str, submission_id: int, sheet: str | None, _actor) -> dict | None:
    return ui.read(review.sheet_view, actor=_actor, submission_id=submission_id, sheet=sheet)


@st.cache_data(ttl=300, show_spinner=False)
def load_diff(url: str, a_id: int, b_id: int, _actor) -> dict | None:
    return ui.read(review.diff_versions, actor=_actor, a_id=a_id, b_id=b_id)


@st.cache_data(ttl=30, show_spinner=False)
def load_history(url: str, submission_id: int, _actor) -> list[dict]:
    return ui.read(review.student_history, actor=_actor, submission_id=submission_id) or []


st.html("<style>.stMainBlockContainer {padding-top: 2.5rem}</style>")  # one screen: less empty top
st.title("Submission review")
st.caption("Blind review: students appear under an alias; a reveal needs a reason and is audited. "
           "Keys: **j** next · **k** previous · **g** grade form.")

# -- filters -----------------------------------------------------------------------------
options = load_options(url, actor)
f1, f2, f3, f4, f5, f6, f7 = st.columns([1.1, 1.5, 0.85, 0.85, 0.85, 1.05, 0.9], vertical_alignment="bottom")
show = f1.selectbox("Show", list(SHOW), key="rv_show")
activity = f2.selectbox("Activity", ["All", *options["activities"]], key="rv_activity",
                        format_func=lambda k: k if k == "All" else display.title(k, options["titles"]))
company = f3.selectbox("Company", ["All", *options["companies"]], key="rv_company")
cohort = f4.selectbox("Cohort", ["All", *options["cohorts"]], key="rv_cohort")
status = f5.selectbox("Validators", ["All", "failed", "passed", "pending"], key="rv_status",
                      format_func=lambda s: s if s == "All" else display.humanize(s))
mine = f6.toggle("My queue", value=actor.role == "instructor", key="rv_mine",
                 help="Only the submissions allocated to you.")
with f7.popover("More filters", width="stretch"):
    since = st.date_input("Submitted from", value=None, key="rv_since")
    until = st.date_input("Submitted until", value=None, key="rv_until")
    latest_only = st.checkbox("Latest version only", value=True, key="rv_latest")


def _opt(value):
    return None if value == "All" else value


base = review.QueueFilters(status=_opt(status), activity=_opt(activity), company=_opt(company), cohort=_opt(cohort),
                           since=since if isinstance(since, date) else None,
                           until=until if isinstance(until, date) else None, latest_only=latest_only,
                           allocated_to=actor.id if mine else None)
filters = review.QueueFilters(**{**base.__dict__, "grade_state": SHOW[show]})
ids = load_ids(url, filters, actor)
progress = load_progress(url, base, actor)


queue = queue_cursor.cursor(st.session_state, "rv", ids=ids, filters=filters, page_size=PAGE_SIZE,
                            load_page=lambda n: load_rows(url, filters, n, actor),
                            row_ids=lambda page_rows: [r["id"] for r in page_rows], keep_outside=True)
current, rows, here = queue.current, queue.rows, queue.here


left, middle, right = st.columns([1.0, 2.8, 1.1], gap="small")

# -- queue ----------------------------------------------------------------------------------
with left:
    st.markdown(f"**{progress['graded']} of {progress['total']} graded**")
    st.caption(f"{progress['total']}: every submission these filters match, whatever its grade. "
               + (f"Listed: the {len(ids)} that {LISTED[show]}." if show in LISTED else "All are listed."))
    if rows:
        table = pd.DataFrame([{
            "Student": ("▶ " if r["id"] == current else "") + r["student"],
            "Grade": grading.STATE_LABELS.get(r["grade_state"], r["grade_state"]),
            "Activity": display.title(r["activity_id"]), "v": r["version"],
            "Validators": display.humanize(r["validator_status"]), "ID": r["id"],
        } for r in rows])
        st.dataframe(table, hide_index=True, width="stretch", height=min(36 * (len(rows) + 1) + 3, 560),
                     on_select="rerun", selection_mode="single-row", key="rv_queue",
                     column_config={"ID": None, "v": st.column_config.NumberColumn("Version", width=40)})
        if queue.page_count > 1:
            st.number_input(f"Page (of {queue.page_count})", min_value=1, max_value=queue.page_count, step=1,
                            key="rv_page", on_change=queue.forget_click)
    else:
        ui.empty_state("Nothing in this view.", "Choose “All” under Show, or turn off My queue.")
    if actor.can("grades.release") and _opt(activity) and st.button(
            f"Release every graded {display.title(activity)}", key="rv_release_all"):
        ui.write(grading.release_activity, activity_id=activity,
                 success=lambda n: [("toast", f"{display.count(n, 'grade')} released to students.")])
    if st.button("Prepare export", key="rv_prepare_export", disabled=not ids):
        everything = ui.read(review.queue, filters=filters) or []
        st.session_state["rv_export"] = (review.to_csv(everything), review.to_xlsx(everything))
    if st.session_state.get("rv_export"):
        csv_data, xlsx_data = st.session_state["rv_export"]
        e1, e2 = st.columns(2)
        e1.download_button("CSV", csv_data, file_name="review_queue.csv", mime="text/csv", key="rv_export_csv")
        e2.download_button("Excel", xlsx_data, file_name="review_queue.xlsx", key="rv_export_xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if st.button("Prepare “Download all” (zip)", key="rv_prepare_zip", disabled=not ids):
        made = ui.read(submission_files.zip_submissions, submission_ids=ids)
        if made:
            st.session_state["rv_zip"] = str(made["path"])
            if made["missing"]:
                st.warning(f"{display.count(len(made['missing']), 'stored file')} could not be found.")
    if st.session_state.get("rv_zip"):
        path = st.session_state["rv_zip"]
        st.download_button("Download all (zip)", data=lambda: open(path, "rb"),  # noqa: SIM115 - streamlit reads and closes it
                           file_name="submissions.zip",
                           mime="application/zip", key="rv_zip_download")

if current is None:
    st.stop()
d = load_detail(url, current, actor)
if d is None:
    st.session_state.pop("rv_current", None)
    st.stop()
sheet = load_grade(url, current, actor) or {"rubric": [], "grade": None, "ai_composite": None}
grade = sheet["grade"] or {}
MARKS = {"passed": ":green[:material/check_circle:]", "failed": ":red[:material/cancel:]",
         "warning": ":orange[:material/warning:]", "skipped": ":gray[:material/skip_next:]"}

# -- the item ---------------------------------------------------------------------------------
with middle:
    position = queue.position
    n1, n2, n3 = st.columns([1.3, 2.4, 1.3])
    n1.button("Previous", icon=":material/arrow_back:", key="rv_prev", on_click=queue.step, args=(-1,), width="stretch",
              disabled=position == 1 or (position is None and here == 0))
    n3.button("Next", icon=":material/arrow_forward:", key="rv_next", on_click=queue.step, args=(1,), width="stretch",
              disabled=position == len(ids) or (position is None and here >= len(ids)))
    n2.markdown(f"**{position} of {len(ids)}** in this view" if position else
                "This item has left the view (it was graded); **Next** goes on.")
    revealed = st.session_state.setdefault("rv_revealed", {})
    who = revealed.get(d["id"])
    st.subheader(f"{who or d['student']} · {display.title(d['activity_id'])} v{d['version']}")
    report = d["report"] or {}
    st.markdown(
        f"**{d['company']}** · {display.humanize(d['submission_type'])} · submitted {display.when(d['created_at'])} · "
        f"validators **{display.humanize(report.get('status', d['validator_status'] or 'pending'))}** · "
        f"grade **{grading.STATE_LABELS.get(grade.get('state', 'not_started'))}**")
    h1, h2, _h3 = st.columns([1, 1.3, 1])
    if actor.can("review.reveal") and who is None:
        if d["blind_marking"]:
            h1.caption("Blind marking: identities stay hidden.")
        else:
            with h1.popover("Reveal name", width="stretch"):
                reason = st.text_input("Reason (kept in the audit log)", key=f"rv_reveal_reason_{d['id']}")
                if st.button("Reveal", key="rv_reveal"):
                    identity = ui.write(review.reveal_identity, submission_id=d["id"], reason=reason, rerun=False)
                    if identity:
                        revealed[d["id"]] = f"{identity['name'] or '(no name)'} <{identity['email']}>"
                        st.rerun()
    others = load_history(url, d["id"], actor)
    with h2.popover(f"Student's other work ({len(others)})", width="stretch"):
        st.caption("The same student (same alias): other activities, versions and grades.")
        st.dataframe(pd.DataFrame([{"Activity": display.title(h["activity_id"]), "Version": h["version"],
                                    "Validators": display.humanize(h["validator_status"]),
                                    "Grade": grading.STATE_LABELS.get(h["grade_state"]),
                                    "Score": display.number(h["grade"], 1)} for h in others],
                                  columns=["Activity", "Version", "Validators", "Grade", "Score"]),
                     hide_index=True, width="stretch", key="rv_student_history")

    # Findings beside the workbook: clicking a finding shows its sheet, with its cells marked.
    findings_side, workbook_side = st.columns([1, 1.45], gap="small")
    with findings_side:
        if report.get("message"):
            st.warning(report["message"])
        checks = report.get("checks", [])
        st.markdown(" · ".join(f"{MARKS.get(c['status'], '•')} {display.check_title(c['id'])}"
                               + (f" ({len(c['findings'])})" if c["findings"] else "") for c in checks)
                    or "No checks were run.")
        found = [{"Where": "!".join(str(f[k]) for k in ("sheet", "cell") if f.get(k)) or display.check_title(c["id"]),
                  "Finding": display.text(f.get("message"))
                  + (f" (expected {display.text(f['expected'])}, actual {display.text(f.get('actual'))})"
                     if f.get("expected") is not None else ""),
                  "Period": display.text(f.get("period")) if f.get("period") else "",
                  "Check": display.check_title(c["id"]), "sheet": f.get("sheet")}
                 for c in checks for f in c["findings"]]
        wanted, focus = None, None
        if found:
            event = st.dataframe(pd.DataFrame(found), hide_index=True, width="stretch", key=f"rv_findings_{d['id']}",
                                 height=min(36 * (len(found) + 1) + 3, 330), on_select="rerun",
                                 selection_mode="single-row", column_order=["Where", "Finding", "Period", "Check"])
            picked = list(event.selection.rows)
            if picked and picked != st.session_state.get(f"rv_finding_seen_{d['id']}"):
                st.session_state[f"rv_finding_seen_{d['id']}"] = picked
                wanted = found[picked[0]]["sheet"]
            focus = found[picked[0] if picked else 0]
            st.caption(f"**{focus['Where']}**: {focus['Finding']} · Click a finding to open its sheet.")
        else:
            st.caption("No findings: every check passed.")
        ai = d["ai"]
        st.caption(f"AI-detection: {display.humanize(ai['status'])}"
                   + (f" ({ai['score']:.0f} / 100)" if ai["score"] is not None else "")
                   + " — one signal among others, never proof.")
    with workbook_side:
        if d["submission_type"] == "excel" and report.get("status") != "rejected":
            finding_sheets = [f["sheet"] for f in found if f["sheet"]]
            first = load_sheet(url, d["id"], finding_sheets[0] if finding_sheets else None, actor)
            if first:
                sheet_key = f"rv_sheet_{d['id']}"
                if wanted in first["sheets"]:
                    st.session_state[sheet_key] = wanted
                if st.session_state.get(sheet_key) not in first["sheets"]:
                    st.session_state[sheet_key] = first["sheet"]
                name = st.selectbox("Sheet", first["sheets"], key=sheet_key, label_visibility="collapsed")
                view = first if name == first["sheet"] else load_sheet(url, d["id"], name, actor)
                grid = view["grid"]
                frame = pd.DataFrame([["" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)
                                       for v in row] for row in grid["values"]],
                                     columns=grid["columns"], index=grid["index"])
                flagged = view["flagged"]

                def _highlight(data: pd.DataFrame) -> pd.DataFrame:
                    styles = pd.DataFrame("", index=data.index, columns=data.columns)
                    for ref in flagged:
                        col = "".join(ch for ch in ref if ch.isalpha())
                        row = int("".join(ch for ch in ref if ch.isdigit()))
                        if col in styles.columns and row in styles.index:
                            styles.loc[row, col] = "background-color: #ffb3b3; font-weight: bold"
                    return styles

                # The focused finding's column comes right after the labels in column A.
                focus_col = "".join(ch for ch in focus["Where"].split("!")[-1] if ch.isalpha()) \
                    if focus and focus["sheet"] == name else ""
                order = [c for c in ("A", focus_col) if c in frame.columns]
                st.dataframe(frame.style.apply(_highlight, axis=None), width="stretch", height=330, key="rv_grid",
                             column_order=[*order, *(c for c in frame.columns if c not in order)])
                if flagged:
                    st.caption(" · ".join(f"**{ref}**: {message}" for ref, message in flagged.items()))
        else:
            st.caption("Not a workbook: download the file to read it.")

    history_tab, feedback_tab, file_tab = st.tabs(["History and diff", "Feedback", "File"])
    with history_tab:
        versions = d["versions"]
        st.dataframe(pd.DataFrame([{"Version": v["version"], "Submitted": display.when(v["created_at"]),
                                    "Validators": display.humanize(v["validator_status"]),
                                    "Latest": display.yes_no(v["is_latest"])} for v in versions]),
                     hide_index=True, width="stretch", key="rv_versions")
        excel_versions = [v for v in versions if v["submission_type"] == "excel"]
        if len(excel_versions) >= 2:
            labels = {v["id"]: f"v{v['version']}" for v in excel_versions}
            v1, v2 = st.columns(2)
            a_id = v1.selectbox("Compare", list(labels), index=1, format_func=labels.get, key=f"rv_diff_a_{d['id']}")
            b_id = v2.selectbox("with", list(labels), index=0, format_func=labels.get, key=f"rv_diff_b_{d['id']}")
            if a_id != b_id and (diff := load_diff(url, a_id, b_id, actor)):
                counts = diff["counts"]
                st.markdown(f"**v{diff['old']['version']} → v{diff['new']['version']}:** "
                            f"{display.count(counts['changed_formulas'], 'changed formula')}, "
                            f"{display.count(counts['changed_values'], 'changed value')}, "
                            f"{display.count(counts['new_hardcoded'], 'newly hard-coded number')}")
                for heading, key in (("Newly hard-coded numbers", "new_hardcoded"),
                                     ("Changed formulas", "changed_formulas")):
                    if diff[key]:
                        st.markdown(f"**{heading}**")
                        st.dataframe(pd.DataFrame(diff[key]).astype(str), hide_index=True, width="stretch",
                                     key=f"rv_diff_{key}")
    with file_tab:
        try:
            downloaded = ui.read(submission_files.file_for_download, submission_id=d["id"])
        except Exception as err:  # noqa: BLE001 - a missing stored file must not break the page
            st.warning(f"The stored file could not be read: {err}")
        else:
            if downloaded is not None:
                st.download_button("Download the file", downloaded[1], file_name=downloaded[0], key="rv_download")
        if actor.can("students.export") and d.get("student_id") is not None:
            from core.student_export import export_to_tempfile

            student_id = d["student_id"]
            # A callable: the zip is built only when the button is clicked, never on a rerun.
            st.download_button("Export all of this student's data (zip)",
                               lambda: export_to_tempfile(ui.engine(), actor=actor, student_id=student_id),
                               file_name=f"student-{student_id}-export.zip", mime="application/zip",
                               key="rv_export", on_click="ignore",
                               help="Every row and stored file of this student, with a README. Audited.")
    with feedback_tab:
        for f in d["feedback"]:
            st.markdown(f"**{display.humanize(f['release_state'])}** · {display.humanize(f['provider'])} · "
                        f"composite {display.number(f['composite'], 1)}")
            st.write(f["text"])
        if not d["feedback"]:
            st.caption("No feedback (it is generated only after the validators pass).")


# -- grading and actions ------------------------------------------------------------------------
def _next_ungraded(after: int) -> int | None:
    """The next item of this view that still needs work, after `after`, wrapping round."""
    order = ids if after in ids else [*ids, after]
    states = ui.read(grading.states, submission_ids=order) or {}
    start = order.index(after) if after in order else -1
    for candidate in order[start + 1:] + order[:start]:
        if states.get(candidate, {}).get("state", "not_started") in ("not_started", "in_progress"):
            return candidate
    return None


with right:
    st.markdown(f"**Grade** · AI composite beside it: **{display.number(sheet['ai_composite'], 1)}**"
                + (f" · grade: **{display.number(grade.get('overall_score'), 1)}**" if grade else ""))
    scored = {c["criterion"]: c["score"] for c in grade.get("criterion_scores", [])}
    released = grade.get("state") == grading.RELEASED
    if not can_grade or released:
        for c in sheet["rubric"]:
            st.markdown(f"{display.humanize(c['criterion'])}: **{display.number(scored.get(c['criterion']), 0)}** "
                        f"/ {c['max']}")
        if released:
            st.caption(f"Released {display.when(grade.get('released_at'))}: visible to the student.")
        if released and actor.can("grades.release"):
            with st.popover("Withdraw the grade", icon=":material/undo:", width="stretch"):
                st.caption("The grade goes back to graded and is hidden from the student until released again.")
                why = st.text_input("Reason (required; kept in the audit log)", key=f"rv_withdraw_reason_{d['id']}")
                if (st.button("Withdraw", key="rv_withdraw", type="primary")
                        and ui.write(grading.withdraw, submission_id=d["id"], reason=why, rerun=False)):
                    st.session_state["rv_toast"] = f"Grade withdrawn from {d['student']}: hidden from them again."
                    st.rerun()
    else:
        # clear_on_submit: the browser otherwise keeps typed digits in the next item's fields.
        with st.form(f"rv_grade_{d['id']}", border=False, clear_on_submit=True):
            values = {}
            rubric = sheet["rubric"]
            for c in rubric:  # one per row, in reading (and Tab) order
                values[c["criterion"]] = st.number_input(
                    f"{display.humanize(c['criterion'])} ×{c['weight']:.2f} (0–{c['max']})", min_value=0.0,
                    max_value=float(c["max"]), step=1.0, value=scored.get(c["criterion"]),
                    help=f"{c['description']} 0–{c['max']} points.", key=f"rv_score_{d['id']}_{c['criterion']}")
            comment = st.text_area("Comment to the student", value=grade.get("comment") or "", height=68,
                                   key=f"rv_comment_{d['id']}")
            save_next = st.form_submit_button("Save and next ungraded", type="primary", width="stretch",
                                              key="rv_save_next")
            s1, s2 = st.columns(2)
            save = s1.form_submit_button("Save grade", width="stretch", key="rv_save")
            draft = s2.form_submit_button("Save draft", width="stretch", key="rv_draft")
        if save_next or save or draft:
            result = ui.write(grading.save_grade, submission_id=d["id"], scores=values, comment=comment,
                              final=not draft, rerun=False)
            if result is not None:
                word = "Draft saved" if draft else "Grade saved"
                message = f"{word} for {d['student']}: {display.number(result['overall_score'], 1)}."
                if save_next:
                    target = _next_ungraded(d["id"])
                    message += "" if target else " Nothing ungraded is left in this view."
                    queue.go(target)
                st.session_state["rv_toast"] = message
                st.rerun()
    if (actor.can("grades.release") and grade.get("state") == grading.GRADED
            and st.button("Release to the student", key="rv_release", width="stretch")
            and ui.write(grading.release, submission_id=d["id"], rerun=False)):
        st.session_state["rv_toast"] = f"Grade released to {d['student']}."
        st.rerun()
    if can_act:
        a1, a2 = st.container(), st.container()
        if a1.button("Mark reviewed", key="rv_mark", width="stretch", disabled=d["reviewed_at"] is not None):
            ui.write(review.mark_reviewed, submission_id=d["id"],
                     success=lambda _: [("toast", f"{d['student']} marked reviewed.")])
        if (a2.button("Re-run validators", key="rv_rerun", width="stretch")
                and ui.write(review.rerun_validators, submission_id=d["id"], rerun=False) is not None):
            st.session_state["rv_toast"] = "Validators re-run; a new run was recorded."
            st.rerun()
    if d["reviewed_at"]:
        st.caption(f"Reviewed by {d['reviewed_by']} {display.when(d['reviewed_at'])}.")
    if actor.can("grades.allocate"):
        with st.popover("Allocate", width="stretch"):
            people = ui.read(grading.markers) or []
            marker = st.selectbox("Marker", [None, *[p["id"] for p in people]], key=f"rv_marker_{d['id']}",
                                  format_func=lambda i: "Nobody" if i is None else
                                  next(p["name"] for p in people if p["id"] == i))
            scope = st.radio("Allocate", ["This item", f"All {len(ids)} in this view"], key="rv_alloc_scope")
            if st.button("Allocate", key="rv_allocate"):
                chosen = [d["id"]] if scope == "This item" else ids
                changed = ui.write(grading.allocate, submission_ids=chosen, marker_id=marker, rerun=False)
                if changed is not None:
                    st.session_state["rv_toast"] = f"{display.count(changed, 'submission')} allocated."
                    st.rerun()
    st.caption(display.zone_note())

# j / k / g: a listener on the parent page clicks the navigation buttons or focuses the form.
st.html("""<script>
const doc = document;
if (!doc.ngiReviewKeys) {
  doc.ngiReviewKeys = true;
  doc.addEventListener('keydown', (e) => {
    const tag = (e.target.tagName || '').toLowerCase();
    if (['input', 'textarea', 'select'].includes(tag) || e.target.isContentEditable || e.ctrlKey || e.metaKey || e.altKey) return;
    const click = (key) => { const b = doc.querySelector('.st-key-' + key + ' button'); if (b && !b.disabled) b.click(); };
    if (e.key === 'j') { click('rv_next'); e.preventDefault(); }
    else if (e.key === 'k') { click('rv_prev'); e.preventDefault(); }
    else if (e.key === 'g') { const i = doc.querySelector('[data-testid="stForm"] input'); if (i) { i.focus(); i.select(); e.preventDefault(); } }
  });
}
</script>""", unsafe_allow_javascript=True)


def upload_form() -> None:
    with st.expander("Upload on behalf of a student"):
        student_id = st.number_input("Student ID", min_value=1, step=1, key="rv_up_student")
        up_activity = st.selectbox("Activity", options["activities"], key="rv_up_activity",
                                   format_func=lambda k: display.title(k, options["titles"]))
        up_company = st.text_input("Company ticker", key="rv_up_company")
        up_type = st.selectbox("PDF type (PDFs only)", ["pdf_memo", "pdf_deck"], key="rv_up_type",
                               format_func=display.humanize)
        upload = st.file_uploader("File (.xlsx or .pdf)", type=["xlsx", "pdf"], key="rv_up_file")
        up_notes = st.text_area("Notes", key="rv_up_notes")
        if st.button("Submit for the student", key="rv_up_submit", disabled=upload is None):
            ui.write(review.upload_on_behalf, student_id=int(student_id), activity_id=up_activity,
                     company_ticker=up_company.strip(), fileobj=upload, filename=upload.name, notes=up_notes or None,
                     submission_type=up_type if upload.name.lower().endswith(".pdf") else None,
                     success=lambda _: [("toast", "Uploaded; the validators have run.")])


if can_act:
    with left:
        upload_form()
