"""`ngi feedback generate` prints the stored row; a failed submission is refused."""

from __future__ import annotations

import json

from core.cli import main
from tests.feedback_fixtures import add_submission


def test_generate_prints_the_stored_row(seeded_engine, db_url, data_env, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    sub = add_submission(seeded_engine)

    assert main(["feedback", "generate", str(sub), "--persona", "portfolio_manager"]) == 0
    out = capsys.readouterr().out
    assert f"for submission {sub}: released" in out
    assert "provider   rubric · model rubric-coach-v1 · persona portfolio_manager" in out
    assert "cost       $0.000000" in out and "composite" in out

    assert main(["feedback", "generate", str(sub), "--provider", "rubric", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["submission_id"] == sub and payload["provider"] == "rubric"
    assert payload["release_state"] == "released" and payload["tokens_in"] == 0
    assert set(payload["scores"]) == {"accuracy", "documentation", "presentation", "reasoning", "composite"}


def test_failed_submission_is_refused_with_a_sentence(seeded_engine, db_url, data_env, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    sub = add_submission(seeded_engine, status="failed")
    assert main(["feedback", "generate", str(sub)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: Submission {sub} has not passed its validators (status: failed)")


def test_retry_with_nothing_pending(seeded_engine, db_url, data_env, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["feedback", "retry"]) == 0
    assert "no submissions are waiting" in capsys.readouterr().out
