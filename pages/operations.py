"""Operations (admins): backups and their verification, storage, the erasure ledger and
the job queue, each read by core.operations; a part not set up here says so."""

import pandas as pd
import streamlit as st

from core import config, operations, ui
from core.access import Actor

actor = ui.guard("operations.read")
ui.sidebar(actor)


@st.cache_data(ttl=30, show_spinner=False)
def load_overview(url: str, actor: Actor) -> dict:
    return ui.read(operations.overview, actor=actor)


def _size(value) -> str:
    if value is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return str(value)


st.title("Operations")
st.caption("Backups, storage, erasures and background jobs. Refreshed every 30 seconds.")
data = load_overview(config.database_url(), actor)

st.subheader(":material/backup: Backups")
backups = data["backups"]
if not backups["configured"]:
    ui.empty_state(f"Backups: not configured ({backups['reason']}).",
                   "See Operations in the README: `ngi backup run` and its systemd timers.")
else:
    for late in (k for k in backups["kinds"] if k["overdue"] and k["ever_ran"]):
        st.warning(f"The last {late['kind']} backup was {late['age']}; it is due every {late['every']}.")
    st.dataframe(
        pd.DataFrame([{"Kind": k["kind"], "Last good backup": k["last_at"], "Age": k["age"],
                       "Due every": k["every"], "Size": _size(k["size_bytes"]),
                       "Last attempt": "ok" if k["last_attempt_ok"] else ("failed" if k["ever_ran"] else "—"),
                       "Overdue": k["overdue"]} for k in backups["kinds"]]),
        hide_index=True, width="stretch", key="ops_backups",
    )
    verify = backups["verify"]
    if verify is None:
        st.info("No backup has been verified yet (`ngi backup verify` restores the latest into scratch and compares).")
    elif verify["ok"]:
        st.success(f"Last verify {verify['at']}: backup {verify['backup_id']} restored and matched.")
    else:
        st.error(f"Last verify {verify['at']}: backup {verify['backup_id']} differed: "
                 + "; ".join(verify["differences"][:5]))

st.subheader(":material/storage: Storage and database")
storage = data["storage"]
c1, c2, c3 = st.columns(3)
c1.metric("Stored files", "—" if storage["files"] is None else f"{storage['files']:,}", border=True)
c2.metric("Storage used", _size(storage["bytes"]), border=True, help=storage["where"] or None)
c3.metric(f"Database ({data['database_engine']})", _size(data["database_bytes"]), border=True)
if storage["error"]:
    st.warning(f"Storage could not be measured: {storage['error']}")

st.subheader(":material/person_remove: Erasures and jobs")
e1, e2, e3 = st.columns(3)
erasures = data["erasures"]
e1.metric("Erasure ledger", "not configured" if erasures is None else erasures, border=True,
          help="Students erased; a restore replays every erasure newer than the backup.")
jobs = data["jobs"]
if jobs is None:
    e2.metric("Job queue", "not configured", border=True)
else:
    e2.metric("Job queue depth", jobs["depth"], border=True, help=f"{jobs['queued']} queued, {jobs['running']} running")
    e3.metric("Job failures", jobs["failed"] + jobs["parked"], border=True,
              help=f"{jobs['failed']} waiting for a retry, {jobs['parked']} parked (see Feedback moderation)")
