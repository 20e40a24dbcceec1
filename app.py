"""The router. Pages are listed by the role remembered at sign-in (a menu nicety);
each page still runs `core.ui.guard` itself, which re-checks against the database."""

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
    ("pages/audit.py", "Audit log", ":material/history:", "audit.read"),
]

role = ui.remembered_role()
if role is None:
    navigation = st.navigation([st.Page(ui.sign_in_page, title="Sign in", icon=":material/login:")])
else:
    navigation = st.navigation(
        [
            st.Page(path, title=title, icon=icon, default=(path == "pages/home.py"))
            for path, title, icon, capability in PAGES
            if capability is None or can_role(role, capability)
        ]
    )
navigation.run()
