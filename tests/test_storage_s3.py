"""S3 storage against a real S3 API: moto's standalone server on loopback, reached
through s3fs exactly as production reaches AWS (NGI_STORAGE_URL=s3://bucket/prefix,
NGI_S3_ENDPOINT_URL). Without moto or s3fs: tests.support.unavailable."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import uuid

import pytest

from core.errors import NotFound, Unavailable
from core.storage import CHUNK, FsspecStorage, new_key, storage_for
from tests.support import unavailable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def s3_endpoint():
    """A moto S3 server on a free loopback port for the whole session."""
    try:
        import s3fs  # noqa: F401
        from moto.server import ThreadedMotoServer
    except ImportError as err:
        unavailable(f"S3 tests need moto[server] and s3fs ({err})")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_endpoint, monkeypatch):
    """A fresh bucket; NGI_STORAGE_URL and the endpoint set as an operator would."""
    import s3fs

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "NGI_S3_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(name, value)
    bucket = f"ngi-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem.clear_instance_cache()
    s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_endpoint}).mkdir(bucket)
    url = f"s3://{bucket}/files"
    monkeypatch.setenv("NGI_STORAGE_URL", url)
    return bucket, url


class CountingReader(io.RawIOBase):
    """A source that records how much each read asked for (an upload is streamed)."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.largest_read = max(self.largest_read, size if size >= 0 else 1 << 62)
        return self._data.read(size)


def test_upload_streams_in_chunks_and_downloads(s3_env):
    bucket, url = s3_env
    storage = storage_for(url)
    assert isinstance(storage, FsspecStorage)
    body = os.urandom(256) * (12 * 4096 + 3)  # ~12 MB: a multipart upload on S3
    source = CountingReader(body)
    key = new_key("submissions/7/capstone", "xlsx")
    stored = storage.put(key, source)
    assert source.largest_read == CHUNK  # never the whole file at once
    assert stored.size == len(body) and stored.sha256 == hashlib.sha256(body).hexdigest()
    assert storage.exists(key) and storage.read_bytes(key) == body
    # Under the configured prefix in the real bucket, no temporary object left over.
    assert storage.fs.ls(f"{bucket}/files/submissions/7/capstone") == [f"{bucket}/files/{key}"]


def test_delete_and_missing_key(s3_env):
    _bucket, url = s3_env
    storage = storage_for(url)
    key = new_key("submissions/8/a1_drivers_map", "xlsx")
    storage.put(key, io.BytesIO(b"model"))
    assert storage.delete(key) and not storage.exists(key)
    assert storage.delete(key) is False
    with pytest.raises(NotFound, match=f"Stored file {key} is missing"):
        storage.read_bytes(key)


def test_a_wrong_bucket_is_named_in_one_line(s3_env):
    url = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/files"
    storage = storage_for(url)
    bucket = url.split("/")[2]
    for call in (lambda: storage.put("a/b.xlsx", io.BytesIO(b"x")), lambda: storage.read_bytes("a/b.xlsx"),
                 lambda: storage.delete("a/b.xlsx")):
        with pytest.raises(Unavailable) as err:
            call()
        assert f"S3 bucket '{bucket}' does not exist" in str(err.value) and "\n" not in str(err.value)


def test_erasure_deletes_the_students_objects(s3_env, engine, monkeypatch, capsys):
    from core.cli import main
    from core.db import session_scope
    from core.models import LearningCompany, LearningSubmission, Student

    _bucket, url = s3_env
    storage = storage_for(url)
    keys = {}
    with session_scope(engine) as session:
        company = LearningCompany(ticker="KO", company_name="Coca-Cola")
        session.add(company)
        session.flush()
        for n in (1, 2):
            student = Student(email=f"s3-{n}@example.edu")
            session.add(student)
            session.flush()
            key = new_key(f"submissions/{student.id}/capstone", "xlsx")
            storage.put(key, io.BytesIO(f"work of {n}".encode()))
            session.add(LearningSubmission(user_id=student.id, company_id=company.id, activity_id="capstone",
                                           module="finance_valuation", submission_type="excel", version=1,
                                           file_path=key, file_name="m.xlsx", is_latest=True))
            keys[n] = (student.id, key)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["student", "erase", str(keys[1][0])]) == 0
    assert "stored files" in capsys.readouterr().out
    assert not storage.exists(keys[1][1])
    assert storage.read_bytes(keys[2][1]) == b"work of 2"  # another student's object stays


def test_missing_s3_extra_is_one_line_naming_the_extra():
    code = ("import sys; sys.modules['s3fs'] = None\n"
            "from core.storage import storage_for\n"
            "try:\n    storage_for('s3://bucket/prefix')\n"
            "except Exception as err:\n    print(type(err).__name__, err)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
                            env={**os.environ, "PYTHONPATH": ROOT})
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Unavailable ") and "s3 extra" in lines[0], result
