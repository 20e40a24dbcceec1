"""Submission review: the filtered queue, one submission in detail (findings on the sheet,
versions and their diff, feedback, AI-detection), and the reviewer's actions."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core import catalogue, config, review, ui

actor = ui.guard("review.read")
ui.sidebar(actor)
st.title("Submission review")
st.caption("Blind review: students appear by number. Revealing a name is recorded in the audit log.")

url = config.database_url()
can_act = actor.can("review.act")


@st.cache_data(ttl=30, show_spinner=False)
def load_queue(url: str, status, activity, company, cohort, since, until, latest_only, reviewed, _actor) -> list[dict]:
    filters = review.QueueFilters(status=status, activity=activity, company=company, cohort=cohort, since=since,
                                  until=until, latest_only=latest_only, reviewed=reviewed)
    return ui.read(review.queue, actor=_actor, filters=filters) or []


@st.cache_data(ttl=60, show_spinner=False)
def load_options(url: str, _actor) -> dict:
    return {**ui.read(review.filter_options, actor=_actor), "awaiting": ui.read(review.awaiting_review_count, actor=_actor)}


@st.cache_data(ttl=30, show_spinner=False)
def load_detail(url: str, submission_id: int, _actor) -> dict:
    return ui.read(review.detail, actor=_actor, submission_id=submission_id)


@st.cache_data(ttl=300, show_spinner=False)
def load_sheet(url: str, submission_id: int, sheet: str | None, _actor) -> dict:
    return ui.read(review.sheet_view, actor=_actor, submission_id=submission_id, sheet=sheet)


@st.cache_data(ttl=300, show_spinner=False)
def load_diff(url: str, a_id: int, b_id: int, _actor) -> dict | None:
    return ui.read(review.diff_versions, actor=_actor, a_id=a_id, b_id=b_id)


# -- filters and queue -------------------------------------------------------------
options = load_options(url, actor)
c1, c2, c3, c4 = st.columns(4)
status = c1.selectbox("Validator status", ["All", "failed", "passed", "pending"], key="rv_status")
activity = c2.selectbox("Activity", ["All", *catalogue.activity_keys()], key="rv_activity")
company = c3.selectbox("Company", ["All", *options["companies"]], key="rv_company")
cohort = c4.selectbox("Cohort", ["All", *options["cohorts"]], key="rv_cohort")
c5, c6, c7, c8 = st.columns(4)
since = c5.date_input("Submitted from", value=None, key="rv_since")
until = c6.date_input("Submitted until", value=None, key="rv_until")
reviewed_choice = c7.selectbox("Review state", ["All", "Awaiting review", "Reviewed"], key="rv_reviewed")
latest_only = c8.checkbox("Latest version only", value=True, key="rv_latest")


def _opt(value):
    return None if value == "All" else value


rows = load_queue(url, _opt(status), _opt(activity), _opt(company), _opt(cohort),
                  since if isinstance(since, date) else None, until if isinstance(until, date) else None,
                  latest_only, {"All": None, "Awaiting review": False, "Reviewed": True}[reviewed_choice], actor)
st.markdown(f"**{len(rows)}** submission(s) match · **{options['awaiting']}** latest version(s) awaiting review")

e1, e2, _ = st.columns([1, 1, 4])
e1.download_button("Export CSV", review.to_csv(rows), file_name="review_queue.csv", mime="text/csv",
                   key="rv_export_csv")
e2.download_button("Export Excel", review.to_xlsx(rows), file_name="review_queue.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="rv_export_xlsx")

if rows:
    table = pd.DataFrame([{
        "ID": r["id"], "Student": r["student"], "Cohort": r["cohort"], "Activity": r["activity_id"],
        "Company": r["company"], "Version": r["version"], "Type": r["submission_type"],
        "Validators": r["validator_status"], "Failed checks": r["failed_checks"],
        "AI signal": r["ai_detection_status"], "Submitted": r["created_at"],
        "Reviewed": r["reviewed_at"] is not None,
    } for r in rows])
    st.dataframe(table, hide_index=True, width="stretch", key="rv_queue")


# -- upload on behalf ----------------------------------------------------------------
def upload_form() -> None:
    with st.expander("Upload on behalf of a student"):
        student_id = st.number_input("Student ID", min_value=1, step=1, key="rv_up_student")
        up_activity = st.selectbox("Activity", catalogue.activity_keys(), key="rv_up_activity")
        up_company = st.text_input("Company ticker", key="rv_up_company")
        up_type = st.selectbox("PDF type (PDFs only)", ["pdf_memo", "pdf_deck"], key="rv_up_type")
        upload = st.file_uploader("File (.xlsx or .pdf)", type=["xlsx", "pdf"], key="rv_up_file")
        up_notes = st.text_area("Notes", key="rv_up_notes")
        if st.button("Submit for the student", key="rv_up_submit", disabled=upload is None):
            ui.write(review.upload_on_behalf, student_id=int(student_id), activity_id=up_activity,
                     company_ticker=up_company.strip(), fileobj=upload, filename=upload.name, notes=up_notes or None,
                     submission_type=up_type if upload.name.lower().endswith(".pdf") else None,
                     success="Uploaded; the validators have run.")


if can_act:
    upload_form()

if not rows:
    ui.empty_state("No submissions match these filters.", "Clear a filter, or untick 'Latest version only'.")
    st.stop()

# -- navigation through the filtered queue ---------------------------------------------
ids = [r["id"] for r in rows]
if st.session_state.get("rv_pick") not in ids:
    st.session_state["rv_pick"] = ids[0]


def _step(delta: int) -> None:
    position = ids.index(st.session_state["rv_pick"])
    st.session_state["rv_pick"] = ids[max(0, min(len(ids) - 1, position + delta))]


by_id = {r["id"]: r for r in rows}
n1, n2, n3 = st.columns([1, 6, 1])
n1.button("◀ Previous", key="rv_prev", on_click=_step, args=(-1,), disabled=ids.index(st.session_state["rv_pick"]) == 0)
picked = n2.selectbox("Submission", ids, key="rv_pick", label_visibility="collapsed",
                      format_func=lambda i: f"#{i} · {by_id[i]['student']} · {by_id[i]['activity_id']} "
                      f"v{by_id[i]['version']} · {by_id[i]['validator_status']}")
n3.button("Next ▶", key="rv_next", on_click=_step, args=(1,),
          disabled=ids.index(st.session_state["rv_pick"]) == len(ids) - 1)

d = load_detail(url, picked, actor)

# -- detail --------------------------------------------------------------------------
st.subheader(f"Submission #{d['id']}: {d['activity_id']} v{d['version']}")
revealed = st.session_state.setdefault("rv_revealed", {})
who = revealed.get(d["id"])
i1, i2 = st.columns([3, 1])
i1.markdown(f"**Student:** {who or d['student']} · **Company:** {d['company']} · **Type:** {d['submission_type']} · "
            f"**File:** {d['file_name']} ({(d['file_size_bytes'] or 0) / 1024:.1f} KB) · "
            f"**Submitted:** {d['created_at']:%Y-%m-%d %H:%M} UTC")
if actor.can("review.reveal") and who is None and i2.button("Reveal name", key="rv_reveal"):
    identity = ui.write(review.reveal_identity, submission_id=d["id"], rerun=False)
    if identity:
        revealed[d["id"]] = f"{identity['name'] or '(no name)'} <{identity['email']}>"
        st.rerun()
if d["notes"]:
    st.markdown(f"**Student's notes:** {d['notes']}")
if d["reviewed_at"]:
    st.success(f"Reviewed by {d['reviewed_by']} on {d['reviewed_at']:%Y-%m-%d %H:%M} UTC"
               + (f": {d['review_notes']}" if d["review_notes"] else ""))

try:
    downloaded = ui.read(review.file_bytes, submission_id=d["id"])
except Exception as err:  # noqa: BLE001 - a missing stored file must not break the page
    st.warning(f"The stored file could not be read: {err}")
else:
    if downloaded is not None:
        download_name, download_data = downloaded
        st.download_button("Download the file", download_data, file_name=download_name, key="rv_download")
if actor.can("students.export") and d.get("student_id") is not None:
    from core.student_export import export_to_tempfile

    student_id = d["student_id"]
    # A callable: the zip is built only when the button is clicked, never on a rerun.
    st.download_button(f"Export all data of {d['student']} (zip)",
                       lambda: export_to_tempfile(ui.engine(), actor=actor, student_id=student_id),
                       file_name=f"student-{student_id}-export.zip", mime="application/zip", key="rv_export",
                       on_click="ignore", help="Every row and stored file of this student, with a README. Audited.")

ai = d["ai"]
if ai["status"] in ("clean", "flagged"):
    st.markdown(f"**AI-detection (GPTZero):** {ai['score']:.0f} / 100 → {ai['status']}"
                + (f" · model {ai['details'].get('model_version')}" if ai["details"].get("model_version") else ""))
else:
    st.markdown(f"**AI-detection:** not run ({ai['details'].get('reason', 'no text to analyse')})")
st.caption("The AI-detection score is one signal among others, never proof: read the work and talk to the student "
           "before drawing any conclusion.")

report = d["report"] or {}
st.markdown(f"**Validators:** {report.get('status', d['validator_status'] or 'pending')}"
            + (f" — {report['message']}" if report.get("message") else ""))
if report.get("outputs"):
    st.markdown(" · ".join(f"{k.replace('_', ' ')}: **{v:,.2f}**" for k, v in report["outputs"].items()))
for check in report.get("checks", []):
    icon = {"passed": ":material/check_circle:", "failed": ":material/cancel:",
            "skipped": ":material/skip_next:"}.get(check["status"])
    with st.expander(f"{check['id']}: {check['status']} ({len(check['findings'])} finding(s))",
                     expanded=check["status"] == "failed", icon=icon):
        if check.get("note"):
            st.caption(check["note"])
        if check["findings"]:
            st.dataframe(pd.DataFrame([{k: (None if f.get(k) is None else str(f.get(k))) for k in
                                        ("sheet", "cell", "period", "message", "expected", "actual")}
                                       for f in check["findings"]]), hide_index=True, width="stretch",
                         key=f"rv_findings_{check['id']}")

# -- the referenced sheet with failing cells highlighted -----------------------------------
if d["submission_type"] == "excel" and report.get("status") != "rejected":
    st.subheader("Workbook")
    finding_sheets = [f["sheet"] for c in report.get("checks", []) for f in c["findings"] if f.get("sheet")]
    first = load_sheet(url, d["id"], finding_sheets[0] if finding_sheets else None, actor)
    sheet = st.selectbox("Sheet", first["sheets"], index=first["sheets"].index(first["sheet"]), key="rv_sheet")
    view = first if sheet == first["sheet"] else load_sheet(url, d["id"], sheet, actor)
    show_formulas = st.toggle("Show formulas instead of values", key="rv_show_formulas")
    grid = view["grid"]
    cells = grid["formulas"] if show_formulas else grid["values"]

    def _show(value) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
        return str(value)

    frame = pd.DataFrame([[_show(v) for v in row] for row in cells], columns=grid["columns"], index=grid["index"])
    flagged = view["flagged"]

    def _highlight(data: pd.DataFrame) -> pd.DataFrame:
        styles = pd.DataFrame("", index=data.index, columns=data.columns)
        for ref in flagged:
            col = "".join(ch for ch in ref if ch.isalpha())
            row = int("".join(ch for ch in ref if ch.isdigit()))
            if col in styles.columns and row in styles.index:
                styles.loc[row, col] = "background-color: #ffb3b3; font-weight: bold"
        return styles

    st.dataframe(frame.style.apply(_highlight, axis=None), width="stretch", key="rv_grid")
    if grid["truncated"]:
        st.caption("Only the first 200 rows and 30 columns are shown; download the file for the rest.")
    if flagged:
        ref = st.selectbox("Flagged cell", list(flagged), key="rv_cell")
        col = "".join(ch for ch in ref if ch.isalpha())
        row = int("".join(ch for ch in ref if ch.isdigit()))
        r_i, c_i = grid["index"].index(row), grid["columns"].index(col)
        st.markdown(f"**{sheet}!{ref}** · formula: `{grid['formulas'][r_i][c_i] or '(typed-in value)'}` · "
                    f"value: `{grid['values'][r_i][c_i]}`")
        st.caption(flagged[ref])

# -- versions and diff ---------------------------------------------------------------
st.subheader("Version history")
versions = d["versions"]
st.dataframe(pd.DataFrame([{"ID": v["id"], "Version": v["version"], "Submitted": v["created_at"],
                            "Validators": v["validator_status"], "Type": v["submission_type"],
                            "File": v["file_name"], "Latest": bool(v["is_latest"])} for v in versions]),
             hide_index=True, width="stretch", key="rv_versions")
excel_versions = [v for v in versions if v["submission_type"] == "excel"]
if len(excel_versions) >= 2:
    labels = {v["id"]: f"v{v['version']} (#{v['id']})" for v in excel_versions}
    v1, v2, v3 = st.columns([2, 2, 1])
    a_id = v1.selectbox("Compare", list(labels), index=1, format_func=labels.get, key="rv_diff_a")
    b_id = v2.selectbox("with", list(labels), index=0, format_func=labels.get, key="rv_diff_b")
    if v3.button("Compare", key="rv_diff") or st.session_state.get("rv_diff_shown") == (a_id, b_id):
        st.session_state["rv_diff_shown"] = (a_id, b_id)
        diff = load_diff(url, a_id, b_id, actor) if a_id != b_id else None
        if a_id == b_id:
            st.info("Pick two different versions.")
        elif diff:
            counts = diff["counts"]
            st.markdown(f"**v{diff['old']['version']} → v{diff['new']['version']}:** "
                        f"{counts['changed_formulas']} changed formula(s), {counts['changed_values']} changed "
                        f"value(s), {counts['new_hardcoded']} newly hard-coded number(s)"
                        + (f"; sheets added: {', '.join(diff['added_sheets'])}" if diff["added_sheets"] else "")
                        + (f"; sheets removed: {', '.join(diff['removed_sheets'])}" if diff["removed_sheets"]
                           else ""))
            st.dataframe(pd.DataFrame(diff["checks"]), hide_index=True, width="stretch", key="rv_diff_checks")
            for title, key in (("Newly hard-coded numbers", "new_hardcoded"), ("Changed formulas", "changed_formulas"),
                               ("Changed values", "changed_values")):
                if diff[key]:
                    st.markdown(f"**{title}**")
                    st.dataframe(pd.DataFrame(diff[key]).astype(str), hide_index=True, width="stretch",
                                 key=f"rv_diff_{key}")

# -- feedback (read-only here) ------------------------------------------------------------
st.subheader("Feedback")
if d["feedback"]:
    st.dataframe(pd.DataFrame([{"ID": f["id"], "Type": f["type"], "State": f["release_state"],
                                "Provider": f["provider"], "Composite": f["composite"], "Flagged": f["flagged"],
                                "Created": f["created_at"], "Text": f["text"]} for f in d["feedback"]]),
                 hide_index=True, width="stretch", key="rv_feedback")
else:
    st.caption("No feedback for this submission (feedback is generated only after the validators pass).")

# -- reviewer actions ------------------------------------------------------------------------
st.subheader("Review")
if not can_act:
    st.info("Your role can read reviews but not act on them.")
    st.stop()
notes = st.text_area("Review notes", value=d["review_notes"] or "", key=f"rv_notes_{d['id']}")
b1, b2 = st.columns(2)
if b1.button("Mark reviewed", key="rv_mark", type="primary"):
    ui.write(review.mark_reviewed, submission_id=d["id"], notes=notes,
             success=f"Submission #{d['id']} marked reviewed.")
if b2.button("Re-run validators", key="rv_rerun"):
    ui.write(review.rerun_validators, submission_id=d["id"], success="Validators re-run; a new run was recorded.")
