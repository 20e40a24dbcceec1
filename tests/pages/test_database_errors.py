"""A database that is unreachable or not migrated gets one clear line on the page,
never a traceback."""

from __future__ import annotations

import pytest

from tests.support import app_test


def _sign_in(at):
    at.text_input(key="sign_in_email").input("admin@example.org")
    at.text_input(key="sign_in_password").input("correct horse battery")
    at.button[0].click().run()
    return at


@pytest.mark.parametrize(
    "make_url, expected",
    [
        (lambda tmp: f"sqlite:///{tmp / 'never-migrated.db'}", "run `ngi db upgrade`"),
        (lambda tmp: "postgresql://postgres@127.0.0.1:1/ngi", "cannot connect to postgresql at 127.0.0.1:1"),
    ],
    ids=["unmigrated", "unreachable"],
)
def test_sign_in_against_a_broken_database_explains_itself(tmp_path, monkeypatch, make_url, expected):
    at = app_test(make_url(tmp_path), monkeypatch, role=None)
    at.run()
    _sign_in(at)
    assert not at.exception, [e.value for e in at.exception]
    assert any(expected in e.value for e in at.error), [e.value for e in at.error]
