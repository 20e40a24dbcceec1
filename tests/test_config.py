"""Every setting the code reads is documented in the README, and nothing reads an
undeclared one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import config

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in config.SETTINGS if f"`{name}`" not in readme]
    assert not missing, f"README.md does not document: {missing}"


def test_code_reads_only_declared_settings():
    pattern = re.compile(r"""(?:env|env_flag|env_float|env_duration)\(\s*["']([A-Z0-9_]+)["']""")
    undeclared = set()
    for path in (ROOT / "core").rglob("*.py"):
        undeclared |= {name for name in pattern.findall(path.read_text()) if name not in config.SETTINGS}
    assert not undeclared, f"read but not declared in core/config.py SETTINGS: {sorted(undeclared)}"


def test_undeclared_setting_is_a_programming_error():
    with pytest.raises(KeyError):
        config.env("NGI_NOT_A_SETTING")
