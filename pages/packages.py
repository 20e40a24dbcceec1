"""Company packages: the companies, their package versions, downloads, comparisons,
and (admins) building a new version and adding or deactivating companies."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import companies as company_service
from core import config, display, packages, ui
from core.access import Actor
from core.sec import DEFAULT_YEARS
from core.storage import sanitize_filename

actor = ui.guard("packages.read")
ui.sidebar(actor)
st.title("Company packages")
st.caption("Excel packages built from SEC companyfacts: three statements, revenue drivers, sources and checks.")


@st.cache_data(ttl=60, show_spinner=False)
def load_overview(url: str, actor: Actor) -> list[dict]:
    return ui.read(packages.overview, actor=actor) or []


@st.cache_data(ttl=60, show_spinner=False)
def load_versions(url: str, ticker: str, actor: Actor) -> list[dict]:
    return [packages.version_dict(v) for v in ui.read(packages.list_versions, actor=actor, ticker=ticker) or []]


@st.cache_data(ttl=300, show_spinner=False)
def load_comparison(url: str, old_id: int, new_id: int, actor: Actor) -> list[dict]:
    return ui.read(packages.compare, actor=actor, old_id=old_id, new_id=new_id) or []


url = config.database_url()
companies = load_overview(url, actor)
if not companies:
    ui.empty_state("No companies yet.", "Run `ngi seed` to add the ten curated companies.")
    st.stop()

overview = pd.DataFrame([{
    "Ticker": c["ticker"], "Company": c["company"], "Active": "Active" if c["active"] else "Deactivated",
    "Current version": c["current_version"],
    "Validation": c["validation_status"] or "no package", "Data as of": c["package_date"],
    "Freshness": ("⚠️ stale" if c["stale"] else "fresh") if c["stale"] is not None else display.MISSING,
    "Revenue model": c["revenue_model"], "Fiscal year end": c["fiscal_year_end"] or "from the first build",
} for c in companies])
# Short columns with fixed widths so "Active" stays on screen at 1440 px; the long driver
# notes are shown for the chosen company below instead of as a column.
ui.table(overview, key="pkg_overview", column_config={
    "Ticker": st.column_config.TextColumn(width=60), "Company": st.column_config.TextColumn(width=180),
    "Active": st.column_config.TextColumn(width=90),
    "Current version": st.column_config.NumberColumn("Version", format="v%d", width=65,
                                                     help="The current package version"),
    "Validation": st.column_config.TextColumn(width=90), "Data as of": ui.date_column("Data as of", width=100),
    "Freshness": st.column_config.TextColumn(width=80), "Revenue model": st.column_config.TextColumn(width=130),
    "Fiscal year end": st.column_config.TextColumn(width="medium"),
})

tickers = [c["ticker"] for c in companies]
ticker = st.selectbox("Company", tickers, key="pkg_company",
                      format_func=lambda t: f"{t} — {next(c['company'] for c in companies if c['ticker'] == t)}")
company = next(c for c in companies if c["ticker"] == ticker)
if company["driver_notes"]:
    st.caption(f"Revenue drivers ({company['revenue_model']}): {company['driver_notes']}")
versions = load_versions(url, ticker, actor)

st.subheader(f"{ticker} version history")
if not versions:
    ui.empty_state(f"{ticker} has no packages yet.",
                   "An admin can build one below or with `ngi packages build`." if actor.can("packages.build") else None)
else:
    history = pd.DataFrame([{
        "Version": v["version"], "Current": bool(v["is_current"]), "Data as of": v["package_date"],
        "Years": ", ".join(v["fiscal_years"]), "Validation": v["validation_status"],
        "Findings": len(v["validation_errors"]), "Method": display.humanize(v["ingestion_method"]),
        "Size (KB)": round((v["file_size_bytes"] or 0) / 1024, 1), "Built": v["created_at"],
        "Stale": bool(v["stale"]),
    } for v in versions])
    ui.table(history, key="pkg_history", column_config={
        "Version": st.column_config.NumberColumn(format="v%d"), "Data as of": ui.date_column("Data as of"),
        "Built": ui.time_column("Built"), "Size (KB)": st.column_config.NumberColumn(format="%.1f"),
    })
    ui.zone_note()

    by_label = {f"v{v['version']}": v for v in versions}
    # Keyed by company: switching company starts from that company's newest version
    # instead of keeping the previous company's version number.
    chosen = by_label[st.selectbox("Version", list(by_label), key=f"pkg_version_{ticker}")]
    if chosen["validation_errors"]:
        findings = display.count(len(chosen["validation_errors"]), "validation finding")
        with st.expander(f"v{chosen['version']}: {findings}"):
            for finding in chosen["validation_errors"]:
                st.write(f"- {finding['message']}")
    if actor.can("packages.download"):
        downloaded = ui.read(packages.download, package_id=chosen["id"])
        if downloaded is not None:
            name, content = downloaded
            st.download_button(f"Download {name}", content, file_name=name, key="pkg_download", on_click="ignore",
                               mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        st.caption("Your role can view packages but not download them.")

    if actor.can("packages.build") and not chosen["is_current"]:
        force = chosen["validation_status"] != "passed"
        label = (f"Force {ticker} v{chosen['version']} current although it failed validation (audited)" if force
                 else f"Make {ticker} v{chosen['version']} current")
        if st.button(label, key=f"pkg_make_current_{ticker}_{chosen['version']}"):
            ui.write(packages.make_current, package_id=chosen["id"], force=force,
                     success=f"{ticker} v{chosen['version']} is now current.")

    if len(versions) > 1:
        st.subheader("Compare versions")
        labels = list(by_label)
        col_new, col_old = st.columns(2)
        new_label = col_new.selectbox("Version", labels, index=0, key=f"pkg_cmp_new_{ticker}")
        old_label = col_old.selectbox("Against", labels, index=min(1, len(labels) - 1), key=f"pkg_cmp_old_{ticker}")
        rows = load_comparison(url, by_label[old_label]["id"], by_label[new_label]["id"], actor)
        counts = packages.compare_summary(rows)
        restated = [r for r in rows if r["changed"]]
        restated_figures = display.count(counts["restated"], "restated figure")
        st.write(f"{restated_figures} {'differs' if counts['restated'] == 1 else 'differ'} between {old_label} "
                 f"and {new_label}; {counts['added']} added and {counts['dropped']} dropped (years or lines only "
                 "one version has) are counted apart.")
        only_changed = st.toggle("Only restated figures", value=bool(restated), key=f"pkg_cmp_only_{ticker}")
        table = pd.DataFrame(restated if only_changed else rows)
        if not table.empty:
            table = table.drop(columns=["changed"]).rename(columns={
                "sheet": "Sheet", "line": "Line", "year": "Year", "old": old_label, "new": new_label,
                "change": "Change", "difference": "Restated by", "percent": "Restated by (%)"})
            styled = table.style.apply(
                lambda r: ["background-color: #FFE699" if r["Change"] == "restated" else "" for _ in r], axis=1
            ).format({old_label: "{:,.2f}", new_label: "{:,.2f}", "Restated by": "{:+,.2f}",
                      "Restated by (%)": "{:+.2f}%"}, na_rep="—")
            ui.table(styled, key="pkg_cmp_table")

if actor.can("packages.build"):
    st.subheader("Build new version")
    st.caption(f"Upload the SEC companyfacts JSON for {ticker} (CIK must match). Validation runs before saving; "
               "a failed package is stored but not made current unless you force it.")
    upload = st.file_uploader("companyfacts JSON", type=["json"], key="pkg_upload")
    years = st.number_input("Fiscal years", min_value=1, max_value=15, value=DEFAULT_YEARS, key="pkg_years")
    force_current = st.checkbox("Make current even if validation fails (audited)", key="pkg_force")
    if st.button("Build new version", key="pkg_build", disabled=upload is None or not company["active"]):
        def built(result) -> list[tuple[str, str]]:
            state = "current" if result.is_current else "not current"
            message = f"Built {ticker} v{result.version}: {result.validation_status}, {state}."
            flash = [("success" if result.validation_status == "passed" else "warning", message)]
            return flash + [("error", error["message"]) for error in result.validation_errors]

        ui.write(packages.build_package, ticker=ticker, companyfacts=upload.getvalue(),
                 source_name=sanitize_filename(upload.name), years=int(years), force_current=force_current,
                 success=built)

def _forget_confirmation() -> None:
    st.session_state.pop("co_confirm_deactivate", None)


@st.dialog("Deactivate company", on_dismiss=_forget_confirmation)
def confirm_deactivation(ticker: str, name: str) -> None:
    st.write(f"Deactivate **{ticker} — {name}**? No new package can be built for it. Its packages and "
             "history are kept, and you can activate it again.")
    yes, no = st.columns(2)
    if no.button("Cancel", key="co_deactivate_cancel", width="stretch"):
        _forget_confirmation()
        st.rerun()
    if yes.button(f"Deactivate {ticker}", key="co_deactivate_confirm", type="primary", width="stretch"):
        _forget_confirmation()
        ui.write(company_service.set_active, ticker=ticker, active=False, success=f"{ticker} is now deactivated.")


if actor.can("companies.manage"):
    st.subheader("Companies")
    left, right = st.columns(2)
    # clear_on_submit: after an add the form is blank for the next company.
    with left.form("co_add_form", clear_on_submit=True, border=True):
        st.markdown("**Add a company**")
        new_ticker = st.text_input("Ticker", key="co_ticker")
        new_name = st.text_input("Company name", key="co_name")
        new_cik = st.text_input("SEC CIK", key="co_cik")
        new_fye = st.text_input("Fiscal year end", key="co_fye",
                                placeholder="read from the filing at the first build, or e.g. 'June 30'")
        new_model = st.selectbox("Revenue model", ["QxP", "QxPxT", "QxP+Membership", "QxPxT+Subscription"],
                                 key="co_model")
        new_notes = st.text_input("Driver notes", key="co_notes")
        if st.form_submit_button("Add company", key="co_add"):
            ui.write(company_service.add_company, ticker=new_ticker, company_name=new_name, cik=new_cik,
                     fiscal_year_end=new_fye or None, revenue_model_type=new_model,
                     revenue_driver_notes=new_notes or None, success=lambda company: f"Added {company.ticker}.")
    with right.container(border=True):
        active = company["active"]
        st.markdown(f"**{ticker}** is {'active' if active else 'deactivated'}. Deactivating keeps its history.")
        if st.button("Deactivate" if active else "Activate", key="co_toggle"):
            if active:  # destructive: asks first, in a dialog that stays open until answered
                st.session_state["co_confirm_deactivate"] = ticker
            else:
                ui.write(company_service.set_active, ticker=ticker, active=True, success=f"{ticker} is now active.")
        if st.session_state.get("co_confirm_deactivate") == ticker:
            confirm_deactivation(ticker, company["company"])
        edited_fye = st.text_input(f"{ticker} fiscal year end", key=f"co_fye_edit_{ticker}",
                                   placeholder="e.g. 'last Sunday of October'")
        if st.button("Save fiscal year end", key=f"co_fye_save_{ticker}", disabled=not edited_fye.strip()):
            ui.write(company_service.edit_company, ticker=ticker, fiscal_year_end=edited_fye,
                     success=f"{ticker}'s fiscal year end is saved.")
