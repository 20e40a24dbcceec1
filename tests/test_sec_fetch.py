"""`ngi packages fetch`: the SEC client against a local HTTP server serving fixtures."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from core import packages
from core.db import session_scope
from core.errors import Invalid, NotFound, Unavailable
from core.models import LearningPackage
from core.sec import fetch
from core.storage import LocalStorage
from tests.sec_support import FIXTURES, register
from tests.support import staff_actor

RESTATED = (FIXTURES / "restated.json").read_bytes()


class FakeSec(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []
    throttled: set[str] = set()

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        FakeSec.seen.append((self.path, self.headers.get("User-Agent", "")))
        name = self.path.rsplit("/", 1)[-1]
        if name == "CIK0000900001.json":  # throttled once, then served
            if name not in FakeSec.throttled:
                FakeSec.throttled.add(name)
                return self._send(429, b"slow down", {"Retry-After": "0"})
            return self._send(200, RESTATED)
        if name == "CIK0000900003.json":  # connection drops mid-body
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(RESTATED)))
            self.end_headers()
            self.wfile.write(RESTATED[: len(RESTATED) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        if name == "CIK0000900005.json":  # complete HTTP response, cut-off JSON
            return self._send(200, RESTATED[:500])
        if name == "CIK0000900006.json":
            return self._send(503, b"maintenance")
        return self._send(404, b'{"error": "not found"}')

    def _send(self, status, body, headers=None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def sec_server(monkeypatch):
    FakeSec.seen, FakeSec.throttled = [], set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSec)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("NGI_SEC_BASE_URL", base)
    monkeypatch.setenv("NGI_SEC_USER_AGENT", "NGI Learning tests tests@example.org")
    yield base
    server.shutdown()
    server.server_close()


def no_sleep(_seconds):
    pass


def test_user_agent_is_mandatory(sec_server, monkeypatch):
    monkeypatch.setenv("NGI_SEC_USER_AGENT", "  ")
    with pytest.raises(Invalid, match="NGI_SEC_USER_AGENT is not set"):
        fetch.fetch_companyfacts("900001")
    assert FakeSec.seen == []


def test_429_is_retried_and_the_user_agent_sent(sec_server):
    body = fetch.fetch_companyfacts("900001", sleep=no_sleep)
    assert body == RESTATED
    assert [path for path, _ in FakeSec.seen] == ["/api/xbrl/companyfacts/CIK0000900001.json"] * 2
    assert {ua for _, ua in FakeSec.seen} == {"NGI Learning tests tests@example.org"}


def test_unknown_cik_is_not_found(sec_server):
    with pytest.raises(NotFound, match="no companyfacts for CIK 404"):
        fetch.fetch_companyfacts("404", sleep=no_sleep)
    assert len(FakeSec.seen) == 1  # a 404 is not retried


def test_truncated_body_is_retried_then_reported(sec_server):
    with pytest.raises(Unavailable, match=r"after 3 attempts: the connection .* cut off"):
        fetch.fetch_companyfacts("900003", attempts=3, sleep=no_sleep)
    assert len(FakeSec.seen) == 3


def test_server_errors_back_off_exponentially(sec_server):
    waits = []
    with pytest.raises(Unavailable, match="answered 503"):
        fetch.fetch_companyfacts("900006", attempts=3, backoff=0.5, sleep=waits.append)
    backoffs = [w for w in waits if w >= 0.5]
    assert backoffs == [0.5, 1.0]


def test_requests_are_spaced_under_ten_per_second(sec_server):
    waits = []
    fetch.fetch_companyfacts("900001", sleep=waits.append)  # 429 then 200, back to back
    pacing = [w for w in waits if 0 < w <= fetch.MIN_INTERVAL]
    assert pacing, "the second request went out without waiting"


def test_fetch_builds_an_automated_package(sec_server, engine, tmp_path):
    register(engine, "RSTD")
    admin = staff_actor(engine, "admin")
    storage = LocalStorage(tmp_path / "files")
    result = packages.fetch_and_build(engine, actor=admin, ticker="RSTD", storage=storage)
    assert result.validation_status == "passed" and result.version == 1
    with session_scope(engine) as session:
        row = session.scalars(select(LearningPackage)).one()
        assert row.ingestion_method == "automated"
        assert row.data_sources["source_file"] == "CIK0000900001.json"


def test_cut_off_json_stores_nothing(sec_server, engine, tmp_path):
    register(engine, "NREV")  # CIK 900005: the server answers with half a document
    storage = LocalStorage(tmp_path / "files")
    with pytest.raises(Invalid, match=r"CIK0000900005.json is not JSON"):
        packages.fetch_and_build(engine, actor=staff_actor(engine, "admin"), ticker="NREV", storage=storage)
    with session_scope(engine) as session:
        assert session.scalars(select(LearningPackage)).all() == []
    assert not (tmp_path / "files").exists() or not any((tmp_path / "files").rglob("*.xlsx"))
