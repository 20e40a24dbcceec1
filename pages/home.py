"""Placeholder until this page is built; it already runs the shared guard."""

import streamlit as st

from core import ui

actor = ui.guard()
ui.sidebar(actor)
st.title("home")
st.info("This page is being built.")
