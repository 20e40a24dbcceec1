"""The GPTZero client against a local HTTP server speaking GPTZero's response shape."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import ai_detection
from core.auth import system_actor

TEXT = "Tesla's deliveries grew faster than the market expected, and margins recovered in the second half. " * 5


def _reply(prob: float) -> dict:
    return {
        "version": "2025-01-09-base",
        "scanId": "3c9f1f8e-5b1a-4b0e-9a57-2f0c1c0e7f11",
        "documents": [{
            "average_generated_prob": prob, "completely_generated_prob": prob, "overall_burstiness": 0,
            "predicted_class": "ai" if prob > 0.5 else "human", "confidence_category": "high",
            "class_probabilities": {"human": 1 - prob, "ai": prob, "mixed": 0.0},
            "paragraphs": [{"completely_generated_prob": prob, "num_sentences": 5, "start_sentence_index": 0}],
            "sentences": [{"generated_prob": prob, "perplexity": 40, "sentence": "Tesla's deliveries grew."}],
        }],
    }


class _Handler(BaseHTTPRequestHandler):
    script: list = []
    seen: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, self.headers.get("x-api-key"), body))
        action = type(self).script.pop(0) if type(self).script else ("ok", 0.1)
        if action[0] == "sleep":
            time.sleep(action[1])
            action = ("ok", 0.1)
        if action[0] == "429":
            self.send_response(429)
            self.send_header("Retry-After", str(action[1]))
            self.end_headers()
            self.wfile.write(b'{"error": "Too many requests"}')
            return
        payload = json.dumps(_reply(action[1])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the timeout test hangs up before the reply; nothing to report


@pytest.fixture
def server(monkeypatch):
    _Handler.script, _Handler.seen = [], []
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GPTZERO_API_KEY", "test-key")
    monkeypatch.setenv("NGI_GPTZERO_BASE_URL", f"http://127.0.0.1:{httpd.server_address[1]}")
    monkeypatch.setenv("NGI_AI_FLAG_THRESHOLD", "70")
    yield _Handler
    httpd.shutdown()
    httpd.server_close()


def test_clean_text_scores_and_records_model_version(server):
    server.script = [("ok", 0.12)]
    result = ai_detection.detect_text(TEXT)
    assert result.status == "clean" and result.score == 12.0
    assert result.details["model_version"] == "2025-01-09-base" and result.run_at is not None
    path, key, body = server.seen[0]
    assert path == "/v2/predict/text" and key == "test-key" and body == {"document": TEXT.strip()}


def test_score_above_threshold_is_flagged(server):
    server.script = [("ok", 0.93)]
    result = ai_detection.detect_text(TEXT)
    assert result.status == "flagged" and result.score == 93.0 and result.details["threshold"] == 70


def test_rate_limit_retries_once_then_succeeds(server):
    server.script = [("429", 0), ("ok", 0.2)]
    result = ai_detection.detect_text(TEXT)
    assert result.status == "clean" and len(server.seen) == 2


def test_persistent_rate_limit_is_not_run_with_reason(server):
    server.script = [("429", 0), ("429", 0)]
    result = ai_detection.detect_text(TEXT)
    assert result.status == "not_run" and "429" in result.details["reason"] and result.details["retryable"]


def test_timeout_is_not_run(server):
    server.script = [("sleep", 2)]
    result = ai_detection.detect_text(TEXT, timeout=0.3)
    assert result.status == "not_run" and "did not answer" in result.details["reason"]


def test_without_key_nothing_is_sent(server, monkeypatch):
    monkeypatch.delenv("GPTZERO_API_KEY")
    result = ai_detection.detect_text(TEXT)
    assert result.status == "not_run" and server.seen == []


def test_submission_of_a_memo_stores_the_detection(server, seeded_engine, data_env, monkeypatch):
    import io

    from core import jobs
    from core.db import session_scope
    from core.models import LearningSubmission, Student
    from core.submissions import submit
    from core.validation import templates

    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "0")
    server.script = [("ok", 0.81)]
    with session_scope(seeded_engine) as s:
        s.add(Student(id=9, email="memo@x.edu"))
    pdf = templates.build_memo_pdf([TEXT])
    result = submit(seeded_engine, actor=system_actor(seeded_engine), student_id=9, activity_id="capstone", company_ticker="TSLA",
                    fileobj=io.BytesIO(pdf), filename="memo.pdf")
    assert result.ai_detection_status == "pending" and server.seen == []  # the upload never waits for GPTZero
    assert jobs.drain(seeded_engine) == 1
    with session_scope(seeded_engine) as s:
        row = s.get(LearningSubmission, result.submission_id)
        assert row.ai_detection_status == "flagged"
        assert float(row.ai_detection_score) == 81.0 and row.ai_detection_run_at is not None
        assert row.ai_detection_details["model_version"] == "2025-01-09-base"
    assert "deliveries grew faster" in server.seen[0][2]["document"]
