"""Small real submissions for the feedback tests: a student, a stored .xlsx with the three
statements, and a passing validator report (the shape core.validation produces); and a
local OpenAI-compatible HTTP server that the real `openai` client can talk to."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from openpyxl import Workbook
from sqlalchemy import select

from core.db import session_scope, utcnow
from core.models import LearningCompany, LearningSubmission, Student, ValidatorRun
from core.storage import default_storage

# A well-formed model reply: long enough, English, no contradictions, scores near the coach's.
GOOD_REPLY = {
    "feedback_text": (
        "You built a clean three-statement forecast for five years, and the income statement flows into the "
        "cash-flow statement as it should. Revenue grows at a steady ten percent a year from FY2023 to FY2027E, "
        "which is plausible, but you should explain that pace next to the inputs. Document the sources of "
        "your working-capital days and state why margins hold steady over the forecast."
    ),
    "strengths": ["Net income carries into the cash-flow statement in every period."],
    "areas_for_improvement": ["Assumptions are not written next to the inputs."],
    "specific_suggestions": ["Add a source note beside Income Statement!F2.", "Explain the FY2027E margin."],
    "scores": {"accuracy": 88, "documentation": 60, "presentation": 85, "reasoning": 80},
}

PERIODS = ["FY2023", "FY2024", "FY2025E", "FY2026E", "FY2027E"]


def workbook_bytes(*, revenue, net_income, notes=(), cover_name: str | None = None,
                   bs_gap: float = 0) -> bytes:
    """Income statement, balance sheet and cash flow for five periods (values, as saved)."""
    wb = Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover["A1"] = "Three-statement model"
    if cover_name:
        cover["A2"] = f"Prepared by {cover_name}"
    inc = wb.create_sheet("Income Statement")
    inc.append(["", *PERIODS])
    inc.append(["Revenue", *revenue])
    inc.append(["Cost of sales", *[round(r * 0.6) for r in revenue]])
    inc.append(["Net income", *net_income])
    for i, note in enumerate(notes):
        inc.cell(row=6 + i, column=1, value=note)
    bs = wb.create_sheet("Balance Sheet")
    bs.append(["", *PERIODS])
    assets = [round(r * 1.1) for r in revenue]
    bs.append(["Cash", *[round(a * 0.1) for a in assets]])
    bs.append(["Total assets", *assets])
    bs.append(["Total liabilities and equity", *[a - (bs_gap if i == 3 else 0) for i, a in enumerate(assets)]])
    cf = wb.create_sheet("Cash Flow")
    cf.append(["", *PERIODS])
    cf.append(["Net income", *net_income])
    cf.append(["Ending cash", *[round(a * 0.1) for a in assets]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def passing_report(*, warnings: list[dict] | None = None) -> dict:
    checks = [
        {"id": "required_sheets", "status": "passed", "findings": []},
        {"id": "no_error_values", "status": "passed", "findings": []},
        {"id": "net_income_ties", "status": "passed", "findings": []},
    ]
    for warning in warnings or []:
        checks.append({"id": warning["id"], "status": warning.get("status", "warning"),
                       "findings": warning.get("findings", [])})
    return {"status": "passed", "checks": checks, "outputs": {}}


def add_submission(engine, *, student_id: int = 987654, full_name: str = "Jane Quarterman",
                   email: str = "jane.quarterman@example.edu", ticker: str | None = None,
                   activity: str = "a2_wc_debt", data: bytes | None = None, report: dict | None = None,
                   status: str = "passed", version: int = 1, ext: str = "xlsx") -> int:
    """Insert a student (if new) and one submission with its file in storage; returns its id."""
    data = data if data is not None else workbook_bytes(
        revenue=[1000, 1100, 1210, 1331, 1464], net_income=[80, 90, 100, 110, 120])
    key = f"submissions/{student_id}/{activity}/v{version}-{student_id}.{ext}"
    stored = default_storage().put(key, io.BytesIO(data))
    with session_scope(engine) as session:
        if session.get(Student, student_id) is None:
            session.add(Student(id=student_id, email=email, full_name=full_name, cohort="2026A"))
            session.flush()
        company = session.scalar(select(LearningCompany).where(LearningCompany.ticker == ticker)) if ticker else None
        if company is None:
            company = session.scalar(select(LearningCompany).order_by(LearningCompany.id).limit(1))
        sub = LearningSubmission(
            user_id=student_id, company_id=company.id, activity_id=activity, module="accounting_i",
            submission_type="excel" if ext == "xlsx" else "pdf_memo", version=version, file_path=stored.key,
            file_name=f"{full_name.replace(' ', '_')}_model.{ext}", file_size_bytes=stored.size,
            file_hash=stored.sha256, validator_status=status,
            validator_errors=report if report is not None else passing_report(),
            validator_run_at=utcnow() - timedelta(minutes=1), is_latest=True,
        )
        session.add(sub)
        session.flush()
        # The full report lives in the validator run; validator_errors keeps the flat list.
        session.add(ValidatorRun(submission_id=sub.id, status=status,
                                 report=report if report is not None else passing_report()))
        session.flush()
        return sub.id


def completion(content: str, *, prompt_tokens=20000, completion_tokens=1000, cached=0,
               model="gpt-4o-mini-2024-07-18") -> dict:
    return {
        "id": "chatcmpl-local", "object": "chat.completion", "created": 1764000000, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens,
                  "prompt_tokens_details": {"cached_tokens": cached}},
    }


class FakeOpenAI:
    """A scripted /v1/chat/completions: each request takes the next (status, body, delay)."""

    def __init__(self):
        self.script: list[tuple[int, object, float]] = []
        self.requests: list[dict] = []
        self.raw_bodies: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                server.raw_bodies.append(body)
                server.requests.append({"path": self.path, "auth": self.headers.get("authorization"),
                                        "json": json.loads(body)})
                status, payload, delay = server.script.pop(0) if server.script else (500, {"error": {}}, 0)
                if delay:
                    time.sleep(delay)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    if status == 429:
                        self.send_header("retry-after", "0")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def reply(self, content, **usage):
        self.script.append((200, completion(content if isinstance(content, str) else json.dumps(content), **usage), 0))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def pdf_bytes(lines: list[str]) -> bytes:
    """A minimal one-page PDF with real text objects (enough for pypdf to extract)."""
    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = "BT /F1 11 Tf 72 760 Td 14 TL " + " ".join(f"({esc(line)}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out
