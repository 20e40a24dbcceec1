"""Leaderboard: capstone price targets per company, anonymized (admins may reveal)."""

import pandas as pd
import plotly.express as px
import streamlit as st

from core import config, display, leaderboard, ui
from core.access import Actor

actor = ui.guard("leaderboard.read")
ui.sidebar(actor)


@st.cache_data(ttl=120, show_spinner=False)
def load_board(url: str, actor: Actor) -> dict:
    # The actor is part of the cache key: what the board holds depends on the role.
    return ui.read(leaderboard.board, actor=actor)


st.title("Leaderboard")
data = load_board(config.database_url(), actor)
stats = pd.DataFrame(data["companies"])
entries = pd.DataFrame(data["entries"])
minimum = data["min_entries"]
hover = ["anonymous_id"] if data["ids_shown"] else None
if not data["ids_shown"] and not entries.empty:  # withheld for this role (core.leaderboard.may_link)
    entries = entries.drop(columns=["anonymous_id"])

if stats.empty or stats["count"].sum() == 0:
    ui.empty_state("No capstone price targets yet.",
                   "Entries appear when a student's capstone passes validation with a final price target.")
    st.stop()

st.caption(
    "Final price targets from passed capstones, per company. Students appear only under anonymous ids."
    + ("" if data["identities_allowed"] else
       f" Companies with fewer than {minimum} entries show only their count, so no one can be picked out.")
)

table = stats.assign(
    note=stats["suppressed"].map({True: f"fewer than {minimum}: hidden", False: ""})
).drop(columns=["suppressed", "low", "high"])
ui.table(
    table,
    column_config={
        "ticker": "Ticker", "company": "Company", "count": st.column_config.NumberColumn("Entries"),
        "median": st.column_config.NumberColumn("Median target", format="$%.2f"),
        "q1": st.column_config.NumberColumn("25th pct", format="$%.2f"),
        "q3": st.column_config.NumberColumn("75th pct", format="$%.2f"),
        "spread": st.column_config.NumberColumn("Spread (IQR)", format="$%.2f",
                                                help="75th minus 25th percentile"),
        "note": "Note",
    },
)

if entries.empty:
    ui.empty_state(f"No company has {display.count(minimum, 'entry', 'entries')} or more yet.", "Individual entries appear once it does.")
    st.stop()

# Targets span $13 to $900 across companies, so the overview compares each target with
# its company's median; the detail view below shows dollars.
medians = entries.groupby("ticker")["final_price_target"].transform("median")
entries["vs_median"] = (entries["final_price_target"] / medians - 1) * 100
overview = px.box(entries, x="ticker", y="vs_median", points="all", hover_data=hover,
                  labels={"ticker": "", "vs_median": "Final target vs company median (%)", "anonymous_id": "Analyst"})
overview.update_layout(margin=dict(l=0, r=0, t=10, b=0), height=380)
st.plotly_chart(overview, key="leaderboard_overview")

tickers = sorted(entries["ticker"].unique())
ticker = st.selectbox("Company", tickers, key="leaderboard_company")
company = entries[entries["ticker"] == ticker].sort_values("final_price_target", ascending=False)
long = company.melt(id_vars=hover or [], value_vars=["dcf_price_target", "comps_price_target",
                                                          "final_price_target"],
                    var_name="method", value_name="target").dropna()
long["method"] = long["method"].map({"dcf_price_target": "DCF", "comps_price_target": "Comps",
                                     "final_price_target": "Final"})
detail = px.box(long, x="method", y="target", points="all", hover_data=hover,
                labels={"method": "", "target": "Price target (USD)", "anonymous_id": "Analyst"})
detail.update_yaxes(tickprefix="$")
detail.update_layout(margin=dict(l=0, r=0, t=10, b=0), height=340)
st.plotly_chart(detail, key="leaderboard_detail")
ui.table(
    company.drop(columns=["ticker", "vs_median"]),
    column_config={
        "anonymous_id": "Analyst", "valuation_date": ui.date_column("Valued on"),
        "dcf_price_target": st.column_config.NumberColumn("DCF", format="$%.2f"),
        "comps_price_target": st.column_config.NumberColumn("Comps", format="$%.2f"),
        "final_price_target": st.column_config.NumberColumn("Final", format="$%.2f"),
    },
)

if not actor.can("leaderboard.identities"):
    st.caption("Identities stay hidden. Only admins can reveal them, and every reveal is logged.")
    st.stop()

st.subheader("Reveal identities")
st.caption("Shows who is behind each anonymous id for one company. The reveal and your reason are audited.")


with st.form("reveal"):
    reveal_ticker = st.selectbox("Company", sorted(stats.loc[stats["count"] > 0, "ticker"]), key="reveal_company")
    reason = st.text_input("Reason", placeholder="e.g. awarding the cohort prize", key="reveal_reason")
    submitted = st.form_submit_button("Reveal identities")
if submitted:
    people = ui.write(leaderboard.reveal_identities, ticker=reveal_ticker, reason=reason, rerun=False)
    if people is not None:
        ui.table(
            pd.DataFrame(people).drop(columns=["ticker", "user_id"]),
            column_config={
                "anonymous_id": "Analyst", "student": "Student", "email": "Email", "cohort": "Cohort",
                "final_price_target": st.column_config.NumberColumn("Final", format="$%.2f"),
                "dcf_price_target": st.column_config.NumberColumn("DCF", format="$%.2f"),
                "comps_price_target": st.column_config.NumberColumn("Comps", format="$%.2f"),
                "valuation_date": ui.date_column("Valued on"),
            },
        )
