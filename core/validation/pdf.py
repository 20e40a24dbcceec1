"""PDF memos and decks: they must open and carry readable text; with the activity's
rules (core.rules.ActivityRules.pdf_rules for the PDF's type) they must also be long
enough, cover the sections the activity names (core.rules.PDF_SECTIONS), state a price
target and have the allowed number of pages. Their text feeds AI-detection and feedback.

Check ids, like the workbook checks: pdf_readable, pdf_text, pdf_pages, pdf_word_count,
pdf_sections, pdf_price_target. A PDF with no readable text at all (blank pages, a
scan without OCR) is rejected: nothing is stored and it counts as no submission.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from core.statuses import FAILED, PASSED
from core.validation.report import CheckResult, Report, rejected

MAX_TEXT_CHARS = 200_000


MIN_TEXT_WORDS = 5  # below this the PDF has no readable text: blank pages or an image scan
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# "$182", "price target of 182.50", "target price: USD 95", "PT $40"
PRICE_TARGET = re.compile(
    r"(price\s+target|target\s+price|\bPT\b|fair\s+value|intrinsic\s+value)[^.\n]{0,60}?"
    r"(\$|USD|US\$|€|£)?\s*\d[\d,]*(\.\d+)?", re.IGNORECASE)


def read_pdf(path: Path, *, name: str | None = None, rules: dict | None = None) -> tuple[Report, str]:
    """(report, extracted text). Encrypted, malformed, empty and textless files are
    rejected; with `rules` ({min_words, sections, price_target, min_pages, max_pages}) the
    content is checked."""
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
    words = len(WORD.findall(text))
    if words < MIN_TEXT_WORDS:
        return rejected(f"{label} has no readable text ({pages} page(s), {words} word(s)): upload the memo as a "
                        "PDF with its text (export it from your editor; a scanned image cannot be read).",
                        kind="pdf"), ""
    checks = [CheckResult("pdf_readable", note=f"{pages} page(s), {len(text)} characters of text"),
              CheckResult("pdf_text", note=f"{words} words of readable text")]
    if rules:
        checks += content_checks(text, rules, label=label, pages=pages)
    status = FAILED if any(c.status == FAILED for c in checks) else PASSED
    report = Report(status=status, checks=checks, kind="pdf",
                    details={"pages": pages, "text_chars": len(text), "words": words})
    return report, text


def content_checks(text: str, rules: dict, *, label: str, pages: int | None = None) -> list[CheckResult]:
    """The activity's content rules over the extracted text."""
    from core.rules import PDF_SECTIONS

    results = []
    low, high = int(rules.get("min_pages") or 0), rules.get("max_pages")
    if pages is not None and (low or high is not None):
        check = CheckResult("pdf_pages", note=f"{pages} page(s)")
        if pages < low or (high is not None and pages > high):
            allowed = f"{low}–{high}" if high is not None else f"at least {low}"
            check.fail(f"{label} has {pages} page(s); this activity asks for {allowed}.", expected=allowed,
                       actual=pages)
        results.append(check)
    words = len(WORD.findall(text))
    minimum = int(rules.get("min_words") or 0)
    if minimum:
        check = CheckResult("pdf_word_count", note=f"{words} words; at least {minimum} required")
        if words < minimum:
            check.fail(f"{label} has {words} words; this activity asks for at least {minimum}.",
                       expected=minimum, actual=words)
        results.append(check)
    sections = rules.get("sections") or []
    if sections:
        lowered = text.lower()
        check = CheckResult("pdf_sections", note="sections: " + ", ".join(sections))
        for section in sections:
            cues = PDF_SECTIONS.get(section, (section,))
            if not any(re.search(rf"\b{re.escape(cue)}", lowered) for cue in cues):
                check.fail(f"{label} has no {section} section (looked for: {', '.join(cues)}).",
                           expected=section, actual=None)
        results.append(check)
    if rules.get("price_target"):
        check = CheckResult("pdf_price_target")
        match = PRICE_TARGET.search(text)
        if match is None:
            check.fail(f"{label} states no price target (e.g. \"Price target: $182\").", expected="a price target")
        else:
            check.note = f"found: {match.group(0).strip()[:80]}"
        results.append(check)
    return results
