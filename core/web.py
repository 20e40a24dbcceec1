"""The HTTP routes beside the Streamlit app (mounted by serve.py through `st.App`):
sign-in and sign-out as plain form POSTs, because only an HTTP response can set an
HttpOnly cookie; Streamlit's widgets talk over a WebSocket, which cannot.

POST /staff/sign-in   email, password, next -> session cookie, 303 to `next`
POST /staff/sign-out  next                  -> session revoked, cookie cleared, 303 to `next`

A cross-site POST is refused (Origin / Sec-Fetch-Site), so another site can neither
sign a visitor in to an account of its choosing nor sign them out. `next` must be a
path on this site. The token never appears in a URL.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

SIGN_IN_PATH = "/staff/sign-in"
SIGN_OUT_PATH = "/staff/sign-out"
REFUSED_PARAM = "sign_in"  # ?sign_in=refused after a refused attempt: the form says so
_MAX_FORM_BYTES = 16_384

_mounted = False


def routes_mounted() -> bool:
    """True in a process serving `routes()` (scripts/app); False under AppTest or a bare
    `streamlit run app.py`, where sign-in stays inside the Streamlit session."""
    return _mounted


def routes() -> list[Route]:
    from starlette.routing import Route

    global _mounted
    _mounted = True
    return [
        Route(SIGN_IN_PATH, _sign_in, methods=["POST"]),
        Route(SIGN_OUT_PATH, _sign_out, methods=["POST"]),
    ]


def safe_next(value: str | None) -> str:
    """A path on this site, or "/": never another host (no open redirect)."""
    value = (value or "").strip()
    parts = urlsplit(value)
    if not value.startswith("/") or value.startswith("//") or "\\" in value or parts.scheme or parts.netloc:
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


@functools.cache
def _engine(url: str) -> Engine:
    from core.db import make_engine

    return make_engine(url)


def engine() -> Engine:
    from core import config

    return _engine(config.database_url())


def _same_site(request: Request) -> bool:
    if request.headers.get("sec-fetch-site", "same-origin") not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def _form(request: Request) -> dict[str, str]:
    # urlencoded only: parsed here, so no multipart parser is needed
    body = (await request.body())[:_MAX_FORM_BYTES].decode("utf-8", "replace")
    return {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}


def _redirect(location: str) -> Response:
    from starlette.responses import RedirectResponse

    return RedirectResponse(location, status_code=303)


def _refused() -> Response:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse("Cross-site sign-in requests are refused.", status_code=403)


def _set_cookie(response: Response, request: Request, token: str) -> None:
    from core import staff_sessions

    response.set_cookie(
        staff_sessions.COOKIE_NAME, token, max_age=int(staff_sessions.max_age().total_seconds()), path="/",
        httponly=True, samesite="lax", secure=request.url.scheme == "https",
    )


async def _sign_in(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    from core import staff_sessions
    from core.errors import DomainError

    if not _same_site(request):
        return _refused()
    form = await _form(request)
    target = safe_next(form.get("next"))
    try:
        # argon2 and the database are blocking: off the event loop.
        _, token = await run_in_threadpool(
            staff_sessions.sign_in, engine(), email=form.get("email", ""), password=form.get("password", ""),
            user_agent=request.headers.get("user-agent"),
        )
    except DomainError:
        path, _, query = target.partition("?")
        return _redirect(f"{path}?{REFUSED_PARAM}=refused" + (f"&{query}" if query else ""))
    # A token this browser held before (another account, an old session) ends here.
    await run_in_threadpool(staff_sessions.end, engine(), request.cookies.get(staff_sessions.COOKIE_NAME))
    response = _redirect(target)
    _set_cookie(response, request, token)
    return response


async def _sign_out(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    from core import staff_sessions

    if not _same_site(request):
        return _refused()
    form = await _form(request)
    await run_in_threadpool(staff_sessions.end, engine(), request.cookies.get(staff_sessions.COOKIE_NAME))
    response = _redirect(safe_next(form.get("next")))
    response.delete_cookie(staff_sessions.COOKIE_NAME, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    return response
