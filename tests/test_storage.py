"""Both storage backends: streamed, hashed, atomic, and keys that cannot escape."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from core.auth import system_actor
from core.errors import Invalid, NotFound
from core.storage import LocalStorage, TooLarge, new_key, sanitize_filename, storage_for


@pytest.fixture(params=["local", "memory"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    return storage_for(f"memory://ngi-test-{uuid.uuid4().hex}")


def test_put_streams_hashes_and_reads_back(storage):
    body = b"x" * (3 * 1024 * 1024 + 7)
    key = new_key("submissions/1/a1_drivers_map", "xlsx")
    stored = storage.put(key, io.BytesIO(body))
    assert stored.size == len(body) and stored.sha256 == hashlib.sha256(body).hexdigest()
    assert storage.exists(key) and storage.read_bytes(key) == body
    assert storage.delete(key) and not storage.exists(key)
    with pytest.raises(NotFound):
        storage.read_bytes(key)


def test_too_large_upload_leaves_nothing_behind(storage):
    key = new_key("submissions/1/capstone", "pdf")
    with pytest.raises(TooLarge):
        storage.put(key, io.BytesIO(b"y" * 5000), max_bytes=1000)
    assert not storage.exists(key)


@pytest.mark.parametrize("key", ["../escape.xlsx", "/etc/passwd", "submissions/../../x.xlsx", ""])
def test_unsafe_keys_are_refused(storage, key):
    with pytest.raises(Invalid):
        storage.put(key, io.BytesIO(b"z"))


def test_client_file_names_are_metadata_only():
    assert sanitize_filename("../../etc/My Model (v2).xlsx") == "My Model (v2).xlsx"
    assert sanitize_filename("C:\\Users\\ana\\model$.xlsx") == "model_.xlsx"
    assert new_key("submissions/7/capstone", "XLSX").endswith(".xlsx")


def test_memory_storage_is_used_by_submissions(seeded_engine, monkeypatch):
    from core.db import session_scope
    from core.models import Student
    from core.storage import default_storage
    from core.submissions import submit
    from core.validation import templates

    monkeypatch.setenv("NGI_STORAGE_URL", f"memory://ngi-sub-{uuid.uuid4().hex}")
    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "0")
    with session_scope(seeded_engine) as s:
        s.add(Student(id=5, email="mem@x.edu"))
    data = templates.build_template("a1_drivers_map")
    result = submit(seeded_engine, actor=system_actor(seeded_engine), student_id=5, activity_id="a1_drivers_map", company_ticker="KO",
                    fileobj=io.BytesIO(data), filename="template.xlsx")
    assert result.status == "failed"
    assert default_storage().read_bytes(result.file_key) == data


# --- temp files, reconcile, missing backends (issue 10) -------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def upload_env(seeded_engine, data_env, monkeypatch):
    from core.db import session_scope
    from core.models import Student

    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "0")
    with session_scope(seeded_engine) as s:
        s.add(Student(id=1, email="ana@school.edu", full_name="Ana Lima", cohort="2025A"))
    return seeded_engine


def _model() -> bytes:
    from core.validation import templates

    return templates.build_template("a1_drivers_map")


def _child_env(db_url, data_env, tmp_dir: Path, **extra) -> dict:
    env = dict(os.environ, DATABASE_URL=db_url, NGI_DATA_DIR=str(data_env), TMPDIR=str(tmp_dir),
               PYTHONPATH=str(ROOT), NGI_FEEDBACK_ON_SUBMIT="0")
    env.pop("NGI_STORAGE_URL", None)
    return env | extra


def _stored(data_env) -> list[Path]:
    root = data_env / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_an_upload_killed_mid_spool_leaves_no_temp_file(upload_env, db_url, data_env, tmp_path, monkeypatch):
    """A real upload process is killed (SIGKILL: no finally runs) while its file is
    still arriving; the next upload sweeps what it left in the temp directory."""
    from core.submissions import submit

    tmp_dir = tmp_path / "tmp"
    tmp_dir.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys; from core.auth import system_actor; from core.db import make_engine;"
            " from core.submissions import submit; e = make_engine();"
            "submit(e, actor=system_actor(e), student_id=1, activity_id='a1_drivers_map', company_ticker='TSLA',"
            " fileobj=sys.stdin.buffer, filename='model.xlsx')")],
        stdin=subprocess.PIPE, env=_child_env(db_url, data_env, tmp_dir), cwd=ROOT)
    try:
        child.stdin.write(_model()[:4096])
        child.stdin.flush()
        deadline = time.monotonic() + 60
        while not [p for p in tmp_dir.rglob("*") if p.is_file()] and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [p for p in tmp_dir.rglob("*") if p.is_file()]
        assert left, "the child never started spooling"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert [p for p in tmp_dir.rglob("*") if p.is_file()] == left  # killed: nothing cleaned up yet

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_dir))
    result = submit(upload_env, actor=system_actor(upload_env), student_id=1, activity_id="a1_drivers_map", company_ticker="TSLA",
                    fileobj=io.BytesIO(_model()), filename="model.xlsx")
    assert result.version == 1
    assert [p for p in tmp_dir.rglob("*") if p.is_file()] == []


def test_a_timed_out_upload_leaves_no_temp_file(upload_env, tmp_path, monkeypatch):
    from core.submissions import submit

    class Stalled(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 1000:
                raise TimeoutError("client stopped sending")
            return super().read(min(size, 1000) if size and size > 0 else 1000)

    tmp_dir = tmp_path / "tmp"
    tmp_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_dir))
    with pytest.raises(TimeoutError):
        submit(upload_env, actor=system_actor(upload_env), student_id=1, activity_id="a1_drivers_map", company_ticker="TSLA",
               fileobj=Stalled(_model()), filename="model.xlsx")
    assert [p for p in tmp_dir.rglob("*") if p.is_file()] == []


def _reconcile_cli(db_url, data_env, tmp_path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", "storage", "reconcile", *args],
                          env=_child_env(db_url, data_env, tmp_path), cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_reconcile_finds_the_file_of_an_upload_killed_before_commit(upload_env, db_url, data_env, tmp_path):
    from core.reconciliation import reconcile
    from core.submissions import submit

    ok = submit(upload_env, actor=system_actor(upload_env), student_id=1, activity_id="a1_drivers_map", company_ticker="TSLA",
                fileobj=io.BytesIO(_model()), filename="model.xlsx")
    model = tmp_path / "model.xlsx"
    model.write_bytes(_model())
    killed = subprocess.run(
        [sys.executable, "-m", "core.cli", "submissions", "add", "--student", "1", "--activity", "a1_drivers_map",
         "--company", "TSLA", "--file", str(model)],
        env=_child_env(db_url, data_env, tmp_path, NGI_TEST_EXIT_AFTER_STORE="1"), cwd=ROOT,
        capture_output=True, text=True, timeout=300, check=False)
    assert killed.returncode == 75, killed.stderr
    orphan = [p for p in _stored(data_env) if p.relative_to(data_env / "files").as_posix() != ok.file_key]
    assert len(orphan) == 1
    orphan_key = orphan[0].relative_to(data_env / "files").as_posix()

    listed = _reconcile_cli(db_url, data_env, tmp_path)
    assert listed.returncode == 1
    assert f"file without a row: {orphan_key}" in listed.stdout and "younger than an hour" in listed.stdout
    young = _reconcile_cli(db_url, data_env, tmp_path, "--fix")
    assert orphan[0].exists(), "an orphan younger than an hour may be an upload about to commit"
    assert "kept" in young.stdout

    two_hours_ago = time.time() - 7200
    os.utime(orphan[0], (two_hours_ago, two_hours_ago))
    fixed = _reconcile_cli(db_url, data_env, tmp_path, "--fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert not orphan[0].exists() and (data_env / "files" / ok.file_key).exists()
    assert reconcile(upload_env, actor=system_actor(upload_env)).clean


def test_reconcile_lists_rows_whose_file_is_missing(upload_env, db_url, data_env, tmp_path):
    from core.submissions import submit

    ok = submit(upload_env, actor=system_actor(upload_env), student_id=1, activity_id="a1_drivers_map", company_ticker="TSLA",
                fileobj=io.BytesIO(_model()), filename="model.xlsx")
    (data_env / "files" / ok.file_key).unlink()
    out = _reconcile_cli(db_url, data_env, tmp_path, "--fix")
    assert out.returncode == 1
    assert f"row without its file: learning_submissions id {ok.submission_id}: {ok.file_key}" in out.stdout


def test_s3_storage_without_the_extra_is_one_line_naming_it(monkeypatch):
    import importlib

    from core.errors import Unavailable

    registry = importlib.import_module("fsspec.registry")  # the module; fsspec.registry is a mapping

    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs now raises ImportError
    for name in ("s3", "s3a"):
        monkeypatch.delitem(registry._registry, name, raising=False)
    with pytest.raises(Unavailable) as err:
        storage_for("s3://bucket/prefix")
    assert "pip install '.[s3]'" in err.value.message and "\n" not in err.value.message


def test_s3_storage_without_the_extra_is_one_line_in_the_cli(db_url, tmp_path):
    # The child cannot import s3fs whether or not this machine has it.
    script = ("import sys\n"
              "class NoS3fs:\n"
              "    def find_spec(self, name, path=None, target=None):\n"
              "        if name.split('.')[0] == 's3fs':\n"
              "            raise ImportError(\"No module named 's3fs'\")\n"
              "sys.meta_path.insert(0, NoS3fs())\n"
              "from core.cli import main\n"
              "sys.exit(main(['storage', 'reconcile']))\n")
    env = _child_env(db_url, tmp_path / "data", tmp_path, NGI_STORAGE_URL="s3://bucket/prefix")
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=False)
    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip().count("\n") == 0 and "pip install '.[s3]'" in out.stderr
