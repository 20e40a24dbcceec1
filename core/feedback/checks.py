"""Automatic checks that hold feedback for a moderator before a student sees it.

Each check returns a flag {code, message}; any flag, or a score outside 0-100, keeps the
row `held`. The checks are deliberately plain text rules, so a moderator can tell from the
message exactly why an item is in the queue.
"""

from __future__ import annotations

import re
from typing import Any

from core.feedback.prompt import EMAIL_RE
from core.feedback.providers import CRITERIA, LISTS

MIN_WORDS = 40
MAX_SCORE_GAP = 30
PHONE_RE = re.compile(r"(?<![\w.,])(?:\+\d{1,3}[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}(?!\w)")
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")
NEGATION_RE = re.compile(
    r"\b(not|never|off by|fails?|failed|failing|wrong|broken|missing|incorrect|mismatch\w*|should|fix|"
    r"however|but|except|gap|yet to)\b|n't\b", re.I)
# A sentence that claims a check's tie holds. Specific on purpose: "ending cash ties to the
# balance sheet" praises the cash tie, not the balance-sheet check.
CLAIMS = {
    "bs_balances": re.compile(r"balance sheet[^.;]{0,40}\b(balances|balanced|ties|foots|checks out)\b|"
                              r"\b(assets|it) (equal|match)\w* liabilities|\bbalances (in|for) (every|each|all)", re.I),
    "cash_ties": re.compile(r"\bcash\b(?![- ]flow)[^.;]{0,40}\b(ties|tied|reconcil\w*|matches|links|agrees)\b", re.I),
    "net_income_ties": re.compile(r"net income[^.;]{0,60}\b(ties|tied|carries|flows|links|reconcil\w*|matches)\b", re.I),
    "forecast_formulas": re.compile(r"(driven|built) (entirely )?(by|with|on|from) formulas|formulas? (throughout|everywhere)|"
                                    r"no hard-?cod", re.I),
    "no_error_values": re.compile(r"\b(no|free of|without) (\w+ )?(error|#ref|#div)|error-free", re.I),
    "revenue_build": re.compile(r"revenue (build|bridge)[^.;]{0,40}\b(reconcil\w*|ties|matches|correct|accurate)", re.I),
    "required_sheets": re.compile(r"\b(all|every) (of )?(the )?required sheets?", re.I),
    "price_targets": re.compile(r"price targets? (are|is) (clear|clearly|stated|well|sound)", re.I),
}
ENGLISH = set(
    ["the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "you", "your", "as", "at", "by", "from", "not", "no", "but", "if", "so", "than", "then", "there", "their", "they", "we", "our", "i", "my", "me", "he", "she", "his", "her", "have", "has", "had", "do", "does", "did", "will", "would", "should", "could", "can", "may", "might", "must", "each", "every", "which", "what", "when", "where", "how", "why", "more", "most", "less", "very", "also", "into", "over", "under", "about", "after", "before", "between", "up", "out", "all", "any", "some"]
)
COMMON_WORDS = {"will", "mark", "grant", "rich", "may", "june", "bill", "case", "price", "cash", "young", "long"}


def _flag(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_][\w'’-]*", text or "")


def contradicts_validators(data: dict, report: dict) -> list[dict]:
    failing = [c for c in (report or {}).get("checks") or []
               if isinstance(c, dict) and c.get("status") in ("failed", "warning", "error")]
    flags = []
    sentences = [s for s in SENTENCE_RE.split(data.get("feedback_text") or "") if s.strip()]
    for check in failing:
        claim = CLAIMS.get(check.get("id") or "")
        if claim is None:
            continue
        praised = [s for s in [*(data.get("strengths") or []), *sentences]
                   if claim.search(s) and not NEGATION_RE.search(s)]
        if praised:
            flags.append(_flag(
                "contradicts_validators",
                f"It praises {check['id']}, which the validators marked {check.get('status')}: \"{praised[0].strip()[:160]}\".",
            ))
    return flags


def personal_data(data: dict, secrets: list[str]) -> list[dict]:
    text = "\n".join([data.get("feedback_text") or "", *[i for name in LISTS for i in data.get(name) or []]])
    found = []
    if email := EMAIL_RE.search(text):
        found.append(f"an email address ({email.group(0)})")
    if phone := PHONE_RE.search(text):
        found.append(f"a phone number ({phone.group(0)})")
    full = next((s for s in secrets if " " in s.strip()), None)
    if full and re.search(rf"(?i)\b{re.escape(full.strip())}\b", text):
        found.append("the student's name")
    else:
        parts = [s for s in secrets if s and " " not in s and "@" not in s and len(s) >= 3 and s.lower() not in COMMON_WORDS]
        hit = next((p for p in parts if re.search(rf"\b{re.escape(p)}\b", text)), None)
        if hit:
            found.append(f"part of the student's name ({hit})")
    return [_flag("personal_data", f"It mentions personal data: {', '.join(found)}.")] if found else []


def too_short(data: dict) -> list[dict]:
    count = len((data.get("feedback_text") or "").split())
    if count < MIN_WORDS:
        return [_flag("too_short", f"The feedback is {count} words long; at least {MIN_WORDS} are expected.")]
    return []


def not_english(data: dict) -> list[dict]:
    tokens = words(data.get("feedback_text") or "")
    if len(tokens) < 8:
        return []
    share = sum(1 for w in tokens if w.lower() in ENGLISH) / len(tokens)
    foreign = sum(1 for w in tokens if not w.isascii()) / len(tokens)
    if share < 0.12 or foreign > 0.2:
        return [_flag("not_english", f"The feedback does not read as English ({share:.0%} common English words).")]
    return []


def disagrees_with_rubric(scores: dict, reference: dict | None) -> list[dict]:
    if not reference:
        return []
    gaps = {k: scores[k] - reference[k] for k in CRITERIA if k in scores and k in reference}
    wide = {k: v for k, v in gaps.items() if abs(v) > MAX_SCORE_GAP}
    if not wide:
        return []
    detail = ", ".join(f"{k} {scores[k]:g} vs {reference[k]:g}" for k in wide)
    return [_flag("score_disagreement",
                  f"Its scores differ from the rubric coach's by more than {MAX_SCORE_GAP} points: {detail}.")]


def out_of_range(scores: dict) -> list[str]:
    return [f"The {k} score is {v:g}, outside 0-100." for k, v in scores.items() if not 0 <= v <= 100]


def run(data: dict[str, Any], *, report: dict, secrets: list[str], reference_scores: dict | None) -> list[dict]:
    """Every automatic flag for one parsed reply, in a stable order."""
    return [
        *contradicts_validators(data, report),
        *personal_data(data, secrets),
        *too_short(data),
        *not_english(data),
        *disagrees_with_rubric(data.get("scores") or {}, reference_scores),
    ]
