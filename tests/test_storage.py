"""Both storage backends: streamed, hashed, atomic, and keys that cannot escape."""

from __future__ import annotations

import hashlib
import io
import uuid

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
