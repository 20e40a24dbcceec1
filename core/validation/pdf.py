"""PDF memos and decks: they must open, and their text feeds AI-detection."""

from __future__ import annotations

import logging
from pathlib import Path

from core.statuses import PASSED
from core.validation.report import CheckResult, Report, rejected

MAX_TEXT_CHARS = 200_000


def read_pdf(path: Path, *, name: str | None = None) -> tuple[Report, str]:
    """(report, extracted text). Encrypted, malformed and empty files are rejected."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    label = name or Path(path).name
    if Path(path).stat().st_size == 0:
        return rejected(f"{label} is empty.", kind="pdf"), ""
    with open(path, "rb") as fh:
        if not fh.read(1024).lstrip().startswith(b"%PDF"):
            return rejected(f"{label} is not a PDF file.", kind="pdf"), ""
    # pypdf logs recoverable damage as warnings; keep them out of the CLI's output.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            return rejected(f"{label} is password-protected; upload a PDF without a password.", kind="pdf"), ""
        pages = len(reader.pages)
        parts, total = [], 0
        for page in reader.pages:
            text = page.extract_text() or ""
            parts.append(text)
            total += len(text)
            if total > MAX_TEXT_CHARS:
                break
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        return rejected(f"{label} is a damaged PDF and cannot be opened ({type(exc).__name__}: {exc}).",
                        kind="pdf"), ""
    if pages == 0:
        return rejected(f"{label} has no pages.", kind="pdf"), ""
    text = "\n".join(parts)[:MAX_TEXT_CHARS]
    check = CheckResult("pdf_readable", note=f"{pages} page(s), {len(text)} characters of text")
    report = Report(status=PASSED, checks=[check], kind="pdf",
                    details={"pages": pages, "text_chars": len(text)})
    return report, text
