"""`ngi` starts fast: each command loads only what it uses.

`ngi --help` and `ngi validate` need no database, so they must not pay for SQLAlchemy,
pandas, openpyxl or Streamlit; the user notices that cost as seconds before anything
happens. Checked by module, from `python -X importtime`, not by timing.
"""

from __future__ import annotations

import argparse
import os
import pkgutil
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import core.cli
from core import schema
from core.cli import COMMANDS, _common, main
from core.db import make_engine
from core.validation import templates
from tests.support import fresh_postgres_database

ROOT = Path(__file__).resolve().parent.parent
HEAVY = {"sqlalchemy", "pandas", "openpyxl", "streamlit", "plotly", "openai", "numpy", "alembic", "argon2"}


def ngi_imports(*args) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run `python -m core.cli ARGS` as a user would; return it and the top-level packages it imported."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # no database to lean on
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "core.cli", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0]
                for line in result.stderr.splitlines() if line.startswith("import time:") and "|" in line}
    assert "core" in imported, result.stderr[-2000:]  # the importtime report was read
    return result, imported


def test_help_lists_every_command_without_loading_heavy_libraries():
    result, imported = ngi_imports("--help")
    assert result.returncode == 0
    for name, help_text in COMMANDS.items():
        assert name in result.stdout and help_text in result.stdout
    assert imported & HEAVY == set()


def test_validate_a_workbook_without_loading_the_database_layer(tmp_path):
    path = tmp_path / "drivers.xlsx"
    path.write_bytes(templates.build_model("a1_drivers_map", company_ticker="KO", rng=random.Random(3)))
    result, imported = ngi_imports("validate", str(path), "--activity", "a1_drivers_map")
    assert result.returncode == 0 and f"{path}: PASSED" in result.stdout, result.stderr[-2000:]
    assert imported & HEAVY == set()


def test_validate_rejects_a_zip_bomb_without_loading_the_database_layer(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        bomb.writestr("xl/media/padding.bin", b"\0" * (20 * 1024 * 1024))
    result, imported = ngi_imports("validate", str(path), "--activity", "a1_drivers_map")
    assert result.returncode == 2 and "zip bomb" in result.stdout, result.stdout + result.stderr[-2000:]
    assert imported & HEAVY == set()


def test_an_unknown_activity_is_still_one_error_line_and_light():
    result, imported = ngi_imports("validate", "model.xlsx", "--activity", "a9")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
    assert errors == ["error: Unknown activity 'a9'; known activities: a1_drivers_map, a2_wc_debt, capstone."]
    assert imported & HEAVY == set()


class _Recorder:
    """Stands in for argparse's subparsers to see what a command module registers."""

    def __init__(self):
        self.groups: list[tuple[str, str | None]] = []

    def add_parser(self, name, **kwargs):
        self.groups.append((name, kwargs.get("help")))
        return argparse.ArgumentParser(prog=f"ngi {name}")


@pytest.mark.parametrize("module", sorted(m.name for m in pkgutil.iter_modules(core.cli.__path__)
                                          if not m.name.startswith("_")))
def test_every_command_module_is_in_the_table_with_its_own_help(module):
    # A module missing from COMMANDS would be a command nobody can run.
    recorder = _Recorder()
    __import__(f"core.cli.{module}", fromlist=["register"]).register(recorder)
    assert recorder.groups == [(module, COMMANDS.get(module))]
    assert module in COMMANDS


def test_a_command_still_has_all_its_arguments(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["packages", "build", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: ngi packages build" in out and "--companyfacts PATH" in out and "--force-current" in out


def test_an_unknown_command_names_every_choice(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["bogus"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'bogus'" in err and all(repr(name) in err for name in COMMANDS)


def test_main_reads_sys_argv(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["ngi", "validate", "--help"])
    with pytest.raises(SystemExit):
        main()
    assert "--activity ACTIVITY_ID" in capsys.readouterr().out



# --- the schema check every database command makes, without Alembic -----------

@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with fresh_postgres_database("ngi_cli") as url:
            yield url


def test_a_database_behind_the_migrations_is_refused_until_upgraded(empty_url):
    engine = make_engine(empty_url)
    try:
        seen = []
        for revision in (None, "0003", "head"):
            if revision:
                schema.upgrade(engine, revision)
            seen.append((_common.is_up_to_date(engine), schema.is_up_to_date(engine)))
        assert seen == [(False, False), (False, False), (True, True)]
        schema.downgrade(engine, "0004")
    finally:
        engine.dispose()
    env = {**os.environ, "DATABASE_URL": empty_url}
    run = [sys.executable, "-m", "core.cli", "companies", "list"]
    behind = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert behind.returncode != 0 and "is not at the latest schema; run `ngi db upgrade` first." in behind.stderr
    upgraded = subprocess.run([sys.executable, "-m", "core.cli", "db", "upgrade"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    assert upgraded.returncode == 0, upgraded.stderr
    listed = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert listed.returncode == 0, listed.stderr


def test_heads_follow_branches_merges_and_annotated_assignments(tmp_path):
    files = {
        "a.py": 'revision = "a"\ndown_revision = None\n',
        "b.py": 'revision: str = "b"\ndown_revision: str | None = "a"\n',
        "c.py": 'revision = "c"\ndown_revision = "a"\n',
    }
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    assert _common.head_revisions(tmp_path) == {"b", "c"}  # two branches: two heads
    (tmp_path / "d.py").write_text('revision = "d"\ndown_revision = ("b", "c")\n')
    assert _common.head_revisions(tmp_path) == {"d"}
    assert _common.head_revisions() == {schema.head_revision()}
