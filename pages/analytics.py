"""Placeholder until this page is built; it already runs the shared guard."""

import streamlit as st

from core import ui

actor = ui.guard("analytics.read")
ui.sidebar(actor)
st.title("analytics")
st.info("This page is being built.")
