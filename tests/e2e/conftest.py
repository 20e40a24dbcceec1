"""The app server and the browser the end-to-end tests share.

One demo database per test session: a fresh SQLite database in a temp data folder,
migrated and seeded with a 40-student demo cohort by the real CLI (`ngi db upgrade`,
`ngi seed --demo`), served as scripts/app serves it (serve.py: Streamlit plus the
sign-in/sign-out routes) on a free port. `server` is that app, started once and shared by
every e2e module (so a module sees what earlier ones changed; each test signs in itself); `start_server(...)` starts another server process on the same database
with extra environment (e.g. a tiny idle timeout). `browser` is headless Chromium (per module).
Without Chromium or Playwright the tests skip with the reason; with CI=true they fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.support import unavailable

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
STUDENTS = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def demo_env(tmp_path_factory) -> dict[str, str]:
    """The environment of the app servers: NGI_DATA_DIR holds the seeded demo database
    (data/ngi.db under a temp folder named e2e*) and its files."""
    if not os.path.exists(CHROMIUM):
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the playwright Python package is not installed")
    data = tmp_path_factory.mktemp("e2e") / "data"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "NGI_STORAGE_URL", "NGI_DEMO_MODE") and not k.startswith("NGI_SESSION_")}
    env.update(NGI_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    ngi = [sys.executable, "-c", "import sys; from core.cli import main; sys.exit(main())"]
    for command in (["db", "upgrade"], ["seed", "--demo", "--students", str(STUDENTS), "--if-empty"]):
        done = subprocess.run([*ngi, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
    assert "admin@demo.ngi" in done.stdout  # the seed prints the demo credentials
    return env


@contextmanager
def _serve(env: dict[str, str], log_path: Path):
    port = _free_port()
    log = open(log_path, "w")  # noqa: SIM115 - the server writes to it until teardown closes it
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "serve.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def start_server(demo_env):
    """`start_server(name, **env)`: the app on the demo database with `env` added, started
    once per name and stopped at the end of the session; returns its URL. Its log is
    NGI_DATA_DIR/<name>.log."""
    started: dict[str, str] = {}
    with ExitStack() as stack:
        def start(name: str, **extra: str) -> str:
            if name not in started:
                log = Path(demo_env["NGI_DATA_DIR"]) / f"{name}.log"
                started[name] = stack.enter_context(_serve({**demo_env, **extra}, log))
            return started[name]

        yield start


@pytest.fixture(scope="session")
def server(start_server) -> str:
    """URL of the app with the default settings, shared by the e2e tests."""
    return start_server("server")


@pytest.fixture(scope="module")
def browser(demo_env):
    """Per module, not per session: Playwright's sync API keeps an event loop in the test
    thread while it runs, which later (non-browser) tests must not inherit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - a broken browser install is an environment problem
            unavailable(f"Chromium at {CHROMIUM} did not start: {str(exc).splitlines()[0]}")
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    """A fresh browser context (cookies of its own) at 1400×1000, closed after the test."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield ctx
    ctx.close()
