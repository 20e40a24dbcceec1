"""The `ngi` command as an operator uses it: real subprocesses, real databases."""

from __future__ import annotations

import os
import random
import subprocess
import sys

from sqlalchemy import func, select

from core.access import SYSTEM_EMAIL
from core.db import make_engine, session_scope
from core.models import AuditLog, LearningCompany, LearningContent, StaffUser, Student, ValidatorRun
from core.validation import templates


def ngi(*args, env_extra=None, db_url=None):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    if db_url:
        env["DATABASE_URL"] = db_url
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_db_commands_and_seed(db_url):
    result = ngi("db", "current", db_url=db_url)
    assert result.returncode == 0 and "up to date" in result.stdout
    for _ in range(2):  # idempotent
        result = ngi("seed", db_url=db_url)
        assert result.returncode == 0, result.stderr
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(LearningCompany)) == 10
        activities = set(session.scalars(select(LearningContent.content_key).where(
            LearningContent.content_type == "activity")))
    assert activities == {"a1_drivers_map", "a2_wc_debt", "capstone"}
    engine.dispose()


def test_downgrade_then_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert ngi("db", "upgrade", db_url=url).returncode == 0
    down = ngi("db", "downgrade", "0002", db_url=url)
    assert down.returncode == 0 and "0002" in down.stdout
    assert "0002" in ngi("db", "current", db_url=url).stdout
    assert ngi("db", "upgrade", db_url=url).returncode == 0


def test_student_erase_prints_rows_per_table(db_url, data_env):
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        session.add(Student(id=4242, email="erase.me@example.edu", full_name="Erase Me"))
    engine.dispose()
    result = ngi("student", "erase", "4242", db_url=db_url, env_extra={"NGI_DATA_DIR": str(data_env)})
    assert result.returncode == 0, result.stderr
    assert "students" in result.stdout and "learning_submissions" in result.stdout
    again = ngi("student", "erase", "4242", db_url=db_url, env_extra={"NGI_DATA_DIR": str(data_env)})
    assert again.returncode != 0
    assert "No student with id 4242" in again.stderr


def test_unreachable_database_gives_one_line_not_a_traceback():
    result = ngi("db", "current", db_url="postgresql://postgres:secret@127.0.0.1:1/ngi")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "127.0.0.1:1" in lines[0] and "secret" not in lines[0]


def test_wrong_credentials_name_the_host(_postgres_session_url):
    # PostgreSQL only: SQLite has no users. Trust auth accepts any password, so an
    # unknown role stands in for wrong credentials.
    result = ngi("db", "current", db_url=_postgres_session_url.replace("postgres@", "nosuchuser:bad@"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "127.0.0.1" in result.stderr and "nosuchuser" in result.stderr


def test_cli_actions_are_attributed_to_the_named_system_account(db_url, data_env, tmp_path):
    """Every CLI write names its actor: a real, inactive staff row, in audit_log and the FKs."""
    env = {"NGI_DATA_DIR": str(data_env), "NGI_FEEDBACK_ON_SUBMIT": "0"}
    assert ngi("seed", db_url=db_url, env_extra=env).returncode == 0
    added = ngi("companies", "add", "ZED", "--cik", "1234", "--name", "Zed Corp", db_url=db_url, env_extra=env)
    assert added.returncode == 0, added.stderr
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        session.add(Student(id=4243, email="sub.mit@example.edu", full_name="Sub Mit"))
    model = tmp_path / "model.xlsx"
    model.write_bytes(templates.build_model("a2_wc_debt", company_ticker="TSLA", rng=random.Random(1)))
    submitted = ngi("submissions", "add", "--student", "4243", "--activity", "a2_wc_debt", "--company", "TSLA",
                    "--file", str(model), db_url=db_url, env_extra=env)
    assert submitted.returncode == 0, submitted.stderr
    with session_scope(engine) as session:
        system = session.scalar(select(StaffUser).where(StaffUser.email == SYSTEM_EMAIL))
        assert (system.display_name, system.role, system.is_active, system.password_hash) == \
            ("System (ngi CLI)", "admin", False, None)
        audited = {row.action: (row.actor_id, row.actor_email) for row in session.scalars(select(AuditLog))}
        assert audited["company.add"] == (system.id, SYSTEM_EMAIL)
        assert audited["submission.upload_on_behalf"] == (system.id, SYSTEM_EMAIL)
        assert set(session.scalars(select(ValidatorRun.run_by))) == {system.id}
    engine.dispose()
