"""The offline rubric coach: feedback written from the validator findings and the
workbook's own figures, in the persona's voice. Deterministic, so it doubles as the
reference the automatic checks compare model scores against.

Every sentence is built from something in this submission (a finding, a cell, a figure);
where there is nothing to say about a topic the sentence is left out rather than filled
with a placeholder.
"""

from __future__ import annotations

import re
from typing import Any

PERIOD_RE = re.compile(r"^(?:FY\s?)?'?((?:19|20)\d{2})\s?([AEFP]|A/E)?$", re.I)
ROW_PATTERNS = {
    "revenue": re.compile(r"^(total\s+)?(net\s+)?(revenues?|sales)\b", re.I),
    "net_income": re.compile(r"^net\s+(income|earnings|profit)\b", re.I),
    "total_assets": re.compile(r"^total\s+assets\b", re.I),
    "cash": re.compile(r"^(ending\s+)?cash(\s+and\s+(cash\s+)?equivalents)?(\s+at\s+end.*)?$", re.I),
    "total_debt": re.compile(r"^(total\s+)?(long[- ]term\s+)?debt\b", re.I),
}
DOC_RE = re.compile(r"\b(assum|source|note|driver|rationale|because|per\s+10-?k|guidance)", re.I)

# What to check when a validator fails, in the words a reviewer would use.
ADVICE = {
    "bs_balances": "check that retained earnings roll forward from net income and that every new balance-sheet line has a cash-flow counterpart",
    "cash_ties": "link the cash-flow statement's ending cash to the balance-sheet cash line instead of forecasting them separately",
    "net_income_ties": "start the cash-flow statement from the income statement's net income cell rather than a typed figure",
    "forecast_formulas": "replace the typed forecast values with formulas driven by your assumptions",
    "no_error_values": "trace the error value back to the reference that broke and fix it at its source",
    "required_sheets": "add the missing sheet with the exact name the activity asks for",
    "revenue_build": "reconcile volume × price (× take-rate) to reported revenue for each historical year",
    "price_targets": "state the DCF, comparables and final price targets as numbers in the Valuation sheet",
}
TOPIC = {
    "bs_balances": "the balance sheet balances",
    "cash_ties": "ending cash ties to the balance sheet",
    "net_income_ties": "net income carries into the cash-flow statement",
    "forecast_formulas": "the forecast is driven by formulas",
    "no_error_values": "no cell shows an error value",
    "required_sheets": "every required sheet is present",
    "revenue_build": "the revenue build reconciles to reported revenue",
    "price_targets": "the price targets are stated",
}


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").replace("$", ""))
        except ValueError:
            return None
    return None


def plural(n: int, one: str, many: str) -> str:
    """'1 needs' / '3 need', '1 page' / '3 pages'."""
    return f"{n} {one if n == 1 else many}"


def fmt(value: float) -> str:
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _cell_ref(finding: dict) -> str | None:
    sheet, cell = finding.get("sheet"), finding.get("cell")
    if sheet and cell:
        return f"{sheet}!{cell}"
    return cell or sheet


def _column(index: int) -> str:
    letters, index = "", index + 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def figures(digest: dict) -> dict[str, Any]:
    """Named rows (revenue, net income ...) with their values by period, from the digest."""
    found: dict[str, Any] = {"rows": {}, "doc_notes": 0, "periods": []}
    for sheet in digest.get("sheets") or []:
        periods: dict[int, str] = {}
        for number, values in sheet["rows"]:
            labels = {}
            for i, v in enumerate(values):
                text = str(int(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() else str(v or "")
                match = PERIOD_RE.match(text.strip())
                if match:
                    labels[i] = text.strip().upper().replace(" ", "")
            if len(labels) >= 2 and not periods:
                periods = labels
                found["periods"] = found["periods"] or list(labels.values())
                continue
            label = next((v for v in values if isinstance(v, str)), None)
            if not label:
                continue
            found["doc_notes"] += sum(1 for v in values if isinstance(v, str) and DOC_RE.search(v))
            for name, pattern in ROW_PATTERNS.items():
                if name in found["rows"] or not pattern.match(label.strip()):
                    continue
                series = [(periods.get(i, _column(i)), _num(v), f"{sheet['name']}!{_column(i)}{number}")
                          for i, v in enumerate(values) if _num(v) is not None and (not periods or i in periods)]
                if len(series) >= 2:
                    found["rows"][name] = {"label": label.strip(), "series": series}
    return found


def _growth_sentence(rows: dict) -> tuple[str | None, float | None]:
    revenue = rows.get("revenue")
    if not revenue:
        return None, None
    (p0, v0, _), (p1, v1, ref1) = revenue["series"][0], revenue["series"][-1]
    years = max(1, len(revenue["series"]) - 1)
    if not v0 or v0 <= 0 or v1 is None or v1 <= 0:
        return f"Your {revenue['label'].lower()} runs from {fmt(v0)} in {p0} to {fmt(v1)} in {p1} ({ref1}).", None
    cagr = (v1 / v0) ** (1 / years) - 1
    sentence = (f"Your {revenue['label'].lower()} runs from {fmt(v0)} in {p0} to {fmt(v1)} in {p1} ({ref1}), "
                f"{cagr * 100:.1f}% a year")
    if cagr > 0.25:
        sentence += "; that pace is far above most companies' history, so the assumptions sheet has to earn it."
    elif cagr < 0:
        sentence += "; a shrinking top line needs a stated reason (pricing, volume or divestment) next to the inputs."
    else:
        sentence += "; tie that pace to the volume and price drivers so a reader can see where it comes from."
    return sentence, cagr


def _margin_sentence(rows: dict) -> str | None:
    revenue, income = rows.get("revenue"), rows.get("net_income")
    if not revenue or not income:
        return None
    rev, inc = dict((p, v) for p, v, _ in revenue["series"]), {p: (v, ref) for p, v, ref in income["series"]}
    shared = [p for p in rev if p in inc and rev[p]]
    if len(shared) < 2:
        return None
    first, last = shared[0], shared[-1]
    m0, m1 = inc[first][0] / rev[first], inc[last][0] / rev[last]
    direction = "widens" if m1 > m0 + 0.005 else "narrows" if m1 < m0 - 0.005 else "holds steady"
    return (f"Net margin {direction} from {m0 * 100:.1f}% in {first} to {m1 * 100:.1f}% in {last} "
            f"(net income {fmt(inc[last][0])} at {inc[last][1]}); say which cost line drives that.")


def _loss_sentence(rows: dict) -> str | None:
    income = rows.get("net_income")
    losses = [(p, v, ref) for p, v, ref in (income or {}).get("series", []) if v is not None and v < 0]
    if not losses:
        return None
    period, value, ref = losses[0]
    return (f"Net income turns negative ({fmt(value)}) in {period} at {ref}; explain what drives the loss "
            "and whether it is a one-off.")


MEMO_SECTIONS = {"thesis": r"thesis", "valuation": r"valuation|dcf|discounted cash", "comparables": r"comparab|comps|peers",
                 "risks": r"\brisks?\b", "catalysts": r"catalysts?"}
CALL_RE = re.compile(r"\b(strong buy|buy|sell|hold|overweight|underweight|outperform|underperform)\b", re.I)
TARGET_RE = re.compile(r"price target (?:of |is |at )?\$?([\d,]+(?:\.\d+)?)", re.I)


def document_notes(digest: dict) -> dict[str, Any] | None:
    """What a memo or deck says: its length, its call, its target and which sections it has."""
    if digest.get("kind") != "pdf" or not digest.get("text"):
        return None
    text = digest["text"]
    call = CALL_RE.search(text)
    target = TARGET_RE.search(text)
    covered = [name for name, pattern in MEMO_SECTIONS.items() if re.search(pattern, text, re.I)]
    return {"words": len(text.split()), "pages": digest.get("pages") or 1,
            "call": call.group(1).upper() if call else None, "target": target.group(1) if target else None,
            "covered": covered, "missing": [n for n in MEMO_SECTIONS if n not in covered]}


def _objective(objectives: list[str], problems: list[str]) -> str | None:
    """The objective that shares most words with what went wrong (else the first)."""
    if not objectives:
        return None
    said = set(re.findall(r"[a-z]{4,}", " ".join(problems).lower()))
    return max(objectives, key=lambda o: (len(set(re.findall(r"[a-z]{4,}", o.lower())) & said), -objectives.index(o)))


def _finding_sentence(check_id: str, finding: dict) -> str:
    ref = _cell_ref(finding)
    period = finding.get("period")
    expected, actual = _num(finding.get("expected")), _num(finding.get("actual"))
    advice = ADVICE.get(check_id)
    where = f" at {ref}" if ref else ""
    when = f"{period} " if period else ""
    if expected is not None and actual is not None and expected != actual:
        gap = actual - expected
        subject = {"bs_balances": "balance sheet", "cash_ties": "ending cash", "net_income_ties": "net income link",
                   "revenue_build": "revenue build"}.get(check_id, check_id.replace("_", " "))
        text = (f"Your {when}{subject} is off by {fmt(abs(gap))}{where} "
                f"({fmt(actual)} against {fmt(expected)} expected)")
    else:
        message = (finding.get("message") or TOPIC.get(check_id, check_id)).rstrip(".")
        text = f"{when.capitalize()}{where.strip().capitalize() + ': ' if where else ''}{message}"
    return f"{text}; {advice}." if advice else f"{text}."


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _score(value: float) -> float:
    return float(max(0, min(100, round(value))))


def write(context: dict[str, Any], persona) -> dict[str, Any]:
    report = context.get("report") or {}
    digest = context.get("digest") or {}
    activity = context.get("activity") or {}
    # Skipped checks (not applicable to this file) neither count for nor against.
    checks = [c for c in report.get("checks") or [] if isinstance(c, dict) and c.get("status") != "skipped"]
    clean_pass = report.get("status") == "passed"
    passed = [c for c in checks if c.get("status") == "passed"]
    troubled = [c for c in checks if c.get("status") not in ("passed", "skipped", None)]
    found = figures(digest)
    rows = found["rows"]
    memo = document_notes(digest)

    problems: list[str] = []
    for check in troubled:
        for finding in (check.get("findings") or [{}])[:3]:
            problems.append(_finding_sentence(check.get("id") or "check", finding if isinstance(finding, dict) else {}))

    growth, cagr = _growth_sentence(rows)
    margin = _margin_sentence(rows)
    period_span = f"{found['periods'][0]} to {found['periods'][-1]}" if found["periods"] else None

    strengths = [f"The validators confirm {TOPIC.get(c.get('id') or '', str(c.get('id')).replace('_', ' '))} ({c.get('id')} passed)."
                 for c in passed[:4]]
    if period_span and len(found["periods"]) >= 4:
        strengths.append(f"Periods are laid out clearly from {period_span} across {len(found['periods'])} columns.")
    if found["doc_notes"] >= 3:
        strengths.append(f"You wrote {found['doc_notes']} notes on assumptions or sources beside the figures.")

    if memo and memo["covered"]:
        strengths.append(f"Your document covers {', '.join(memo['covered'])}.")
    if memo and memo["call"] and memo["target"]:
        strengths.append(f"The call is explicit: {memo['call']} with a target of {memo['target']}.")

    areas = list(problems[:5])
    if memo:
        if memo["words"] < 300:
            areas.append(f"At {plural(memo['words'], 'word', 'words')} the document is too short to defend the call.")
        if not memo["target"]:
            areas.append("State the final price target as a number, next to the recommendation.")
    if found["doc_notes"] < 3 and not memo:
        explained = {0: "No cell explains", 1: "Only one cell explains"}.get(found["doc_notes"], f"Only {found['doc_notes']} cells explain")
        areas.append(f"{explained} an assumption or cites a source; label each forecast driver with where it comes from.")
    if growth and cagr is not None and (cagr > 0.25 or cagr < 0):
        areas.append(growth)
    loss = _loss_sentence(rows)
    if loss:
        areas.append(loss)

    # Each problem sentence ends with its advice; the advice alone is the next step.
    suggestions = [_capitalise(p.split("; ", 1)[1]) if "; " in p else p for p in problems[:3]]
    if rows.get("revenue"):
        ref = rows["revenue"]["series"][-1][2]
        suggestions.append(f"Next to {ref}, write the growth driver behind the final-year revenue and its source.")
    if memo and memo["missing"]:
        suggestions.append(f"Add a short section on {memo['missing'][0]}, with the figures from your model behind it.")
    elif not rows and not memo:
        suggestions.append("Label the revenue, net income and total assets rows plainly so they can be traced.")
    objective = _objective(list(activity.get("objectives") or []), problems)
    if objective:
        suggestions.append(f"Re-read the objective \"{objective}\" and check the model meets it in every period.")

    # Scores: accuracy follows the validators; the rest follow what the file shows.
    findings_count = sum(len(c.get("findings") or [1]) for c in troubled)
    accuracy = 100 - 18 * len(troubled) - 4 * max(0, findings_count - len(troubled)) if checks else (90 if clean_pass else 70)
    documentation = 45 + 8 * min(found["doc_notes"], 6)
    if memo:  # a memo is judged on its coverage and length instead of cell notes
        documentation = 40 + 9 * len(memo["covered"]) + min(15, memo["words"] // 100)
    presentation = 55 + (20 if len(found["periods"]) >= 3 else 0) + 5 * min(len(rows), 4) - (10 if digest.get("error") else 0)
    reasoning = (20 if memo and memo["call"] and memo["target"] else 0) + 60 + (15 if cagr is not None and 0 <= cagr <= 0.25 else 0) + (10 if margin else 0) + 3 * min(found["doc_notes"], 5)
    scores = {"accuracy": _score(accuracy), "documentation": _score(documentation),
              "presentation": _score(presentation), "reasoning": _score(reasoning)}

    paragraphs = [persona.greeting]
    title = activity.get("title")
    if not checks and clean_pass:
        paragraphs.append((f"For \"{title}\", " if title else "") + "the validators found nothing to correct.")
    if checks:
        summary = (f"For \"{title}\", " if title else "") + (
            f"all {len(checks)} validator checks passed." if not troubled else
            f"{len(passed)} of {len(checks)} validator checks passed and {plural(len(troubled), 'needs', 'need')} "
            "your attention.")
        paragraphs.append(summary)
    if problems:
        paragraphs.append(" ".join(problems[:3]))
    numbers = " ".join(s for s in (growth, margin, loss) if s)
    if numbers:
        paragraphs.append(numbers)
    elif memo:
        sentence = f"Your document runs to {plural(memo['words'], 'word', 'words')} over {plural(memo['pages'], 'page', 'pages')}"
        if memo["call"] and memo["target"]:
            sentence += f" and recommends {memo['call']} with a price target of {memo['target']}"
        elif memo["call"]:
            sentence += f" and recommends {memo['call']} without stating a price target"
        paragraphs.append(sentence + "; make sure each claim points back to a figure in the model.")
        if memo["missing"]:
            paragraphs.append(f"I could not find a section on {', '.join(memo['missing'])}; a reader deciding on the "
                              "call will look for each of them.")
    if found["doc_notes"] < 3 and not memo:
        notes = {0: "no written note", 1: "one written note"}.get(found["doc_notes"], f"{found['doc_notes']} written notes")
        paragraphs.append(f"I found {notes} on assumptions in the statement sheets; "
                          "a reviewer should not have to guess where a driver comes from.")
    paragraphs.append(persona.sign_off)
    return {
        "feedback_text": "\n\n".join(paragraphs),
        "strengths": strengths,
        "areas_for_improvement": areas,
        "specific_suggestions": suggestions,
        "scores": scores,
    }
