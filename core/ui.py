"""The only core module that imports streamlit: the cached engine, the page guard,
sign-in and sign-out, and how domain errors are shown.

Served by scripts/app (serve.py), a signed-in browser holds a session cookie that the
routes in core/web.py set; every page run restores the staff member from it, so a
reload, a new tab or a deep link stays signed in. Without those routes (AppTest, a bare
`streamlit run app.py`) sign-in lives in the Streamlit session only, as it always did."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from core import auth, config, schema, staff_sessions, web
from core.access import ROLE_LABELS, Actor, can
from core.db import check_connection, describe_database_error, make_engine, read_scope, session_scope
from core.errors import DomainError, Unavailable
from core.jobs import local as jobs_local

T = TypeVar("T")
Flash = str | list[tuple[str, str]]  # a confirmation: text, or (st method, text) pairs
_ACTOR_KEY = "ngi_actor_id"
_ROLE_KEY = "ngi_actor_role"
_FLASH_KEY = "ngi_flash"
_PAGE_ACTOR_KEY = "ngi_page_actor"
_COOKIE_SESSION_KEY = "ngi_cookie_session"  # the actor came from the session cookie
_ENDED_KEY = "ngi_session_ended"  # the cookie's session has ended: the form says why


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    engine = make_engine(url)
    if not config.demo_mode():
        # Demo accounts exist only while demo mode is on (auth refuses them anyway).
        try:
            with session_scope(engine) as session:
                auth.sync_demo_accounts(session, demo=False)
        except Exception:  # noqa: BLE001 - an unmigrated database is reported by the page itself
            pass
    return engine


def engine() -> Engine:
    """Keyed on the URL, so a test that switches DATABASE_URL gets its own engine. An
    unreachable or unmigrated database stops the page with one line saying so."""
    url = config.database_url()
    problem = _database_problem(url)
    if problem:
        st.error(problem, icon=":material/database:")
        st.stop()
    # The embedded default has no worker: run background jobs in this process (once).
    jobs_local.start(url)
    return _engine_for(url)


@st.cache_data(ttl=15, show_spinner=False)
def _database_problem(url: str) -> str | None:
    eng = _engine_for(url)
    try:
        check_connection(eng)
    except Unavailable as err:
        return err.message
    if not schema.is_up_to_date(eng):
        return ("The database is not at the latest schema: run `ngi db upgrade` "
                "(scripts/app does this before it starts the app).")
    return None


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def _session_token() -> str | None:
    if not web.routes_mounted():
        return None
    try:
        return st.context.cookies.get(staff_sessions.COOKIE_NAME)
    except Exception:  # noqa: BLE001 - no browser connection (bare script run)
        return None


def _forget() -> None:
    for key in (_ACTOR_KEY, _ROLE_KEY, _COOKIE_SESSION_KEY):
        st.session_state.pop(key, None)


def signed_in_actor() -> Actor | None:
    token = _session_token()
    if token is not None:
        # Checked on every run, so a sign-out in another tab, a deactivation or an
        # expiry takes effect at this tab's next action.
        actor = staff_sessions.resume(engine(), token)
        if actor is not None:
            _remember(actor)
            st.session_state[_COOKIE_SESSION_KEY] = True
            return actor
        _forget()
        st.session_state[_ENDED_KEY] = True
    actor_id = st.session_state.get(_ACTOR_KEY) if token is None else None
    if actor_id is not None:
        with read_scope(engine()) as session:
            actor = auth.current_actor(session, actor_id)
        if actor is None:
            st.session_state.pop(_ACTOR_KEY, None)
            st.session_state.pop(_ROLE_KEY, None)
        else:
            st.session_state[_ROLE_KEY] = actor.role  # a changed role updates the menu on the next run
        return actor
    if _oidc_logged_in():
        verified = st.user.get("email_verified")
        try:
            with session_scope(engine()) as session:
                actor = auth.actor_for_oidc_email(
                    session, email if isinstance(email := st.user.get("email"), str) else None, email_verified=verified if isinstance(verified, bool) else None
                )
        except SHOWN_ERRORS as err:
            st.error(error_message(err), icon=":material/lock:")
            st.button("Sign out of the identity provider", on_click=st.logout, key="oidc_logout")
            st.stop()
        _remember(actor)
        return actor
    return None


def _oidc_logged_in() -> bool:
    """st.user has `is_logged_in` only when an [auth] section is configured."""
    if not _oidc_configured():
        return False
    try:
        return bool(st.user.is_logged_in)
    except (AttributeError, KeyError):
        return False


def _remember(actor: Actor) -> None:
    st.session_state[_ACTOR_KEY] = actor.id
    st.session_state[_ROLE_KEY] = actor.role


def router_role() -> str | None:
    """The signed-in role, for the router's menu (restored from the session cookie on a
    new connection); each page re-checks through `guard`."""
    actor = signed_in_actor()
    return actor.role if actor is not None else None


def guard(capability: str | None = None) -> Actor:
    """Every page calls this first. Unsigned visitors get the sign-in form; a role
    without `capability` gets a refusal. Either way the page stops here."""
    actor = signed_in_actor()
    if actor is None:
        sign_in_form()
        st.stop()
    if capability is not None and not can(actor, capability):
        st.error(f"{ROLE_LABELS.get(actor.role, actor.role)}s do not have access to this page.", icon=":material/lock:")
        st.stop()
    st.session_state[_PAGE_ACTOR_KEY] = actor
    return actor


def sign_in_form() -> None:
    st.title("NGI Learning — staff sign-in")
    if web.routes_mounted():
        _cookie_sign_in_form()
    else:
        _session_sign_in_form()
    if _oidc_configured():
        st.button("Sign in with your organisation", on_click=st.login, key="oidc_login")
    if config.demo_mode():
        st.info(
            "Demo mode: sign in as "
            + ", ".join(f"**{email}** ({ROLE_LABELS[role]})" for email, _, role in auth.DEMO_ACCOUNTS)
            + f" with password `{auth.DEMO_PASSWORD}`."
        )


def _current_path() -> str:
    try:
        url = st.context.url
    except Exception:  # noqa: BLE001 - no browser connection
        url = None
    return web.safe_next(urlsplit(url).path if url else "/")


_INPUT_STYLE = ("display:block;width:100%;box-sizing:border-box;margin:.25rem 0 1rem;padding:.55rem .75rem;"
                "font:inherit;border:1px solid rgba(49,51,63,.25);border-radius:.5rem;background:transparent;"
                "color:inherit")
_BUTTON_STYLE = ("font:inherit;padding:.45rem 1.1rem;border-radius:.5rem;border:1px solid {border};"
                 "background:{background};color:{color};cursor:pointer")


def _cookie_sign_in_form() -> None:
    """A plain HTML form posting to core/web.py, which sets the session cookie and
    sends the browser back to the page it asked for (this page)."""
    if st.query_params.get(web.REFUSED_PARAM) == "refused":
        st.error(auth.REFUSAL)
        del st.query_params[web.REFUSED_PARAM]
    elif st.session_state.pop(_ENDED_KEY, False):
        st.info("Your session has ended (signed out, idle too long, or expired). Sign in again to continue.",
                icon=":material/schedule:")
    button = _BUTTON_STYLE.format(border="#0f4c81", background="#0f4c81", color="#fff")
    st.html(
        f'''<form method="post" action="{web.SIGN_IN_PATH}" style="max-width:26rem">
  <input type="hidden" name="next" value="{html.escape(_current_path())}">
  <label>Email<input type="email" name="email" autocomplete="username" required style="{_INPUT_STYLE}"></label>
  <label>Password<input type="password" name="password" autocomplete="current-password" required
    style="{_INPUT_STYLE}"></label>
  <button type="submit" style="{button}">Sign in</button>
</form>'''
    )


def _session_sign_in_form() -> None:
    # clear_on_submit: the password never lingers in the session after a submit.
    with st.form("sign_in", clear_on_submit=True):
        email = st.text_input("Email", key="sign_in_email")
        password = st.text_input("Password", type="password", key="sign_in_password")
        submitted = st.form_submit_button("Sign in", key="sign_in_submit")
    if submitted:
        try:
            actor = auth.sign_in(engine(), email=email, password=password)
        except SHOWN_ERRORS as err:
            st.error(error_message(err))
        else:
            _remember(actor)
            st.rerun()


def sign_out() -> None:
    """Forget everything this browser session held; end the OIDC session too."""
    oidc = _oidc_logged_in()
    st.session_state.clear()
    if oidc:
        st.logout()  # deletes the identity cookie and starts a new session


def sidebar(actor: Actor) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{actor.display_name}** · {ROLE_LABELS.get(actor.role, actor.role)}")
        if st.session_state.get(_COOKIE_SESSION_KEY):
            # The route revokes the session and clears the cookie; a widget could not.
            button = _BUTTON_STYLE.format(border="rgba(49,51,63,.25)", background="transparent", color="inherit")
            st.html(f'''<form method="post" action="{web.SIGN_OUT_PATH}"><input type="hidden" name="next" value="/">
<button type="submit" style="{button}">Sign out</button></form>''')
        elif st.button("Sign out", key="sign_out"):
            sign_out()
            st.rerun()
    _show_flash()


# What a page shows as one line instead of a traceback: our own errors, and the
# database failing or refusing (locked, unreachable, deadlocked past its retries).
SHOWN_ERRORS = (DomainError, DBAPIError)


def error_message(err: BaseException) -> str:
    """The one line a page shows for an error in SHOWN_ERRORS."""
    if isinstance(err, DomainError):
        return err.message
    return describe_database_error(err)


def read(fn: Callable[..., T], /, *, actor: Actor | None = None, **kwargs) -> T | None:
    """Call a read service, `fn(session, actor=..., **kwargs)`, in a short session of its
    own, as the signed-in actor (or `actor`, for a cached loader keyed on it). A domain
    error shows its message where the page asked, and gives None."""
    try:
        with read_scope(engine()) as session:
            return fn(session, actor=actor or _page_actor(), **kwargs)
    except SHOWN_ERRORS as err:
        st.error(error_message(err))
        return None


def write(fn: Callable[..., T], /, *, success: str | Callable[[T], Flash] | None = None, rerun: bool = True,
          **kwargs) -> T | None:
    """Call a write service, `fn(engine, actor=..., **kwargs)`, which owns its unit of work.

    A domain error shows its message where the user acted and gives None. On success the
    cached reads are dropped; with `rerun` the page reloads and shows `success` at its top
    (a string, or a function of the result giving a string or (kind, text) pairs),
    otherwise it is shown right here. No unit of work is opened here: page code never
    runs inside one (tests/test_conventions.py checks every page's write services).
    """
    actor = _page_actor()
    try:
        result = fn(engine(), actor=actor, **kwargs)
    except SHOWN_ERRORS as err:
        st.error(error_message(err))
        return None
    st.cache_data.clear()
    message = success(result) if callable(success) else success
    flash = [("success", message)] if isinstance(message, str) else list(message or [])
    if rerun:
        st.session_state[_FLASH_KEY] = flash
        st.rerun()
    for kind, text in flash:
        getattr(st, kind)(text)
    return result


def _page_actor() -> Actor:
    """The actor `guard` let into this page run."""
    actor = st.session_state.get(_PAGE_ACTOR_KEY)
    return actor if isinstance(actor, Actor) else guard()


def _show_flash() -> None:
    for kind, text in st.session_state.pop(_FLASH_KEY, None) or []:
        getattr(st, kind)(text)


def empty_state(message: str, hint: str | None = None) -> None:
    st.info(message + (f"\n\n{hint}" if hint else ""), icon=":material/info:")


def page_link(page: str, label: str, icon: str | None = None) -> None:
    """st.page_link that degrades to a caption when the page is not in the current
    navigation (a cold deep link runs a page without the router)."""
    try:
        st.page_link(page, label=label, icon=icon)
    except Exception:  # noqa: BLE001 - StreamlitAPIException / KeyError: page not registered
        st.caption(f"{label}: open it from the menu.")



# ---- tables (core.display says how a value reads; these say how a table shows it) ----

def table(frame, *, key: str | None = None, **kwargs) -> None:
    """A read-only table that fits the page: no index, full width, "—" for a missing cell."""
    from core import display

    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    st.dataframe(display.local_times(frame), key=key, placeholder=display.MISSING, **kwargs)


def time_column(label: str, **kwargs):
    """A moment in the program's timezone, "2 Dec 2026, 09:14" (the page shows `display.zone_note()`)."""
    from core import display

    return st.column_config.DatetimeColumn(label, format="D MMM YYYY, HH:mm", timezone=display.zone_name(),
                                           **kwargs)


def date_column(label: str, **kwargs):
    return st.column_config.DateColumn(label, format="D MMM YYYY", **kwargs)


def zone_note() -> None:
    """Once per page that shows times."""
    from core import display

    st.caption(display.zone_note())
