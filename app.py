"""The router. Pages are listed by the signed-in role (a menu nicety); each page still
runs `core.ui.guard` itself, which re-checks against the database."""

import streamlit as st

from core import ui
from core.access import can_role

st.set_page_config(page_title="NGI Learning — staff", page_icon="📈", layout="wide")

PAGES = [
    ("pages/home.py", "Home", ":material/home:", None),
    ("pages/content.py", "Content", ":material/menu_book:", "content.read"),
    ("pages/packages.py", "Company packages", ":material/inventory_2:", "packages.read"),
    ("pages/review.py", "Submission review", ":material/rate_review:", "review.read"),
    ("pages/moderation.py", "Feedback moderation", ":material/gavel:", "feedback.read"),
    ("pages/leaderboard.py", "Leaderboard", ":material/leaderboard:", "leaderboard.read"),
    ("pages/analytics.py", "Analytics", ":material/monitoring:", "analytics.read"),
    ("pages/operations.py", "Operations", ":material/settings_heart:", "operations.read"),
    ("pages/audit.py", "Audit log", ":material/history:", "audit.read"),
]

role = ui.router_role()
# Signed out, every page is still routable (hidden from the menu), so a reload or a deep
# link such as /review shows the sign-in form there and lands on that page afterwards.
navigation = st.navigation(
    [
        st.Page(path, title=title, icon=icon, default=(path == "pages/home.py"))
        for path, title, icon, capability in PAGES
        if role is None or capability is None or can_role(role, capability)
    ],
    position="sidebar" if role is not None else "hidden",
)
navigation.run()
