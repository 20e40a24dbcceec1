"""Download companyfacts from the SEC API (or a stand-in at NGI_SEC_BASE_URL).

The SEC asks every client to send a User-Agent naming the requester and to stay
under 10 requests per second; it answers 429 when throttling and the odd 5xx.
This client refuses to run without NGI_SEC_USER_AGENT, spaces its requests at least
0.11 s apart across the whole process, and retries 429, 5xx and broken connections
with exponential backoff (honouring a numeric Retry-After).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from core import config
from core.errors import Invalid, NotFound, Unavailable
from core.sec.facts import MAX_BYTES

MIN_INTERVAL = 0.11  # seconds between requests: under 10 per second
_lock = threading.Lock()
_last_request = [0.0]


def _pace(sleep: Callable[[float], None]) -> None:
    with _lock:
        wait = _last_request[0] + MIN_INTERVAL - time.monotonic()
        if wait > 0:
            sleep(wait)
        _last_request[0] = time.monotonic()


def companyfacts_url(cik: str | int, base_url: str | None = None) -> str:
    digits = str(cik).strip().lstrip("0") or "0"
    if not digits.isdigit():
        raise Invalid(f"CIK must be a number, got {cik!r}.")
    base = (base_url or config.env("NGI_SEC_BASE_URL") or "https://data.sec.gov").rstrip("/")
    return f"{base}/api/xbrl/companyfacts/CIK{int(digits):010d}.json"


def user_agent() -> str:
    value = (config.env("NGI_SEC_USER_AGENT") or "").strip()
    if not value:
        raise Invalid(
            "NGI_SEC_USER_AGENT is not set. The SEC requires a User-Agent naming you and an email "
            "address, for example NGI_SEC_USER_AGENT='NGI Learning admin@example.org'."
        )
    return value


def fetch_companyfacts(
    cik: str | int, *, base_url: str | None = None, attempts: int = 4, backoff: float = 1.0,
    timeout: float = 30.0, max_bytes: int = MAX_BYTES, sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """The raw companyfacts bytes for `cik`. NotFound for an unknown CIK; Unavailable
    when the SEC keeps refusing or the connection keeps breaking."""
    url = companyfacts_url(cik, base_url)
    headers = {"User-Agent": user_agent(), "Accept": "application/json", "Accept-Encoding": "gzip, deflate"}
    last_problem = "no attempt was made"
    last_retry_after: str | None = None  # the Retry-After of the previous refusal, if any
    with httpx.Client(headers=headers, timeout=timeout, follow_redirects=True) as client:
        for attempt in range(attempts):
            if attempt:
                sleep(_delay(last_retry_after, backoff, attempt))
                last_retry_after = None
            _pace(sleep)
            try:
                with client.stream("GET", url) as response:
                    if response.status_code == 404:
                        raise NotFound(f"The SEC has no companyfacts for CIK {cik} ({url} answered 404).")
                    if response.status_code == 429 or response.status_code >= 500:
                        last_retry_after = response.headers.get("Retry-After")
                        last_problem = f"{url} answered {response.status_code}"
                        continue
                    if response.status_code != 200:
                        raise Unavailable(f"{url} answered {response.status_code}; the SEC refused the request.")
                    return _read_capped(response, url, max_bytes)
            except httpx.TransportError as err:
                last_problem = f"the connection to {url} broke ({type(err).__name__}: {err}); the body was cut off"
                continue
    raise Unavailable(f"Could not download companyfacts after {attempts} attempts: {last_problem}.")


def _read_capped(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise Invalid(f"{url} is larger than {max_bytes // 1048576} MB; companyfacts files that big are refused.")
        chunks.append(chunk)
    return b"".join(chunks)


def _delay(retry_after: str | None, backoff: float, attempt: int) -> float:
    if retry_after is not None:
        try:
            return min(max(float(retry_after), 0.0), 30.0)
        except ValueError:
            pass  # an HTTP date: fall back to exponential backoff
    return backoff * 2 ** (attempt - 1)
