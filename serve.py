"""What scripts/app serves: the Streamlit app (app.py) plus the sign-in and sign-out
routes that set and clear the session cookie (core/web.py), as one ASGI app.

`streamlit run serve.py` finds `app` and runs it on uvicorn with Streamlit's settings
(port, WebSocket limits, TLS); `uvicorn serve:app` works too.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core import web

# app.py routes with st.navigation. Streamlit decides once per process, at the first
# session, whether a `pages/` folder means its legacy multipage mode; when that first
# session is a deep link (/review) it would run pages/review.py without the router and
# show the folder's file names as the menu. The router is always in charge here.
PagesManager.uses_pages_directory = False

app = st.App("app.py", routes=web.routes())
