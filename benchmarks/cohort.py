"""A synthetic cohort for benchmarks and tests: students who enrol over time, study on
a weekday rhythm (evenings, fewer weekends), work through the catalogue in order
(with validator failures and retries, and some who skip the lesson), and drop off.

`create_students` writes the students; `write_events` writes JSON Lines in the import
format, so the same file exercises `ngi telemetry import`.

    python -m benchmarks.cohort --students 20000 --events 1000000 --out /tmp/cohort.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from core.models import LearningCompany, LearningFeedback, LearningSubmission, Student
from core.validation.report import flat_errors

COHORTS = ("2026-spring", "2026-summer", "2026-fall")
# The path a student walks: (event_type, module, unit, lesson, activity).
PATH = [
    ("lesson_view", "business_foundations", "unit_1_systems_thinking", "l1_business_model", None),
    ("lesson_view", "business_foundations", "unit_1_systems_thinking", "l2_revenue_drivers", None),
    ("activity_start", "business_foundations", "unit_1_systems_thinking", None, "a1_drivers_map"),
    ("submission", "business_foundations", "unit_1_systems_thinking", None, "a1_drivers_map"),
    ("validator_pass", "business_foundations", "unit_1_systems_thinking", None, "a1_drivers_map"),
    ("feedback_issued", "business_foundations", "unit_1_systems_thinking", None, "a1_drivers_map"),
    ("lesson_view", "accounting_i", "unit_2_three_statements", "l3_income_statement", None),
    ("lesson_view", "accounting_i", "unit_2_three_statements", "l4_balance_sheet", None),
    ("lesson_view", "accounting_i", "unit_2_three_statements", "l5_cash_flow", None),
    ("lesson_view", "accounting_i", "unit_3_working_capital", "l6_working_capital", None),
    ("lesson_view", "accounting_i", "unit_3_working_capital", "l7_debt_schedule", None),
    ("activity_start", "accounting_i", "unit_3_working_capital", None, "a2_wc_debt"),
    ("submission", "accounting_i", "unit_3_working_capital", None, "a2_wc_debt"),
    ("validator_pass", "accounting_i", "unit_3_working_capital", None, "a2_wc_debt"),
    ("feedback_issued", "accounting_i", "unit_3_working_capital", None, "a2_wc_debt"),
    ("lesson_view", "finance_valuation", "unit_4_valuation", "l8_dcf", None),
    ("lesson_view", "finance_valuation", "unit_4_valuation", "l9_comparables", None),
    ("activity_start", "finance_valuation", "unit_4_valuation", None, "capstone"),
    ("submission", "finance_valuation", "unit_4_valuation", None, "capstone"),
    ("validator_pass", "finance_valuation", "unit_4_valuation", None, "capstone"),
    ("feedback_issued", "finance_valuation", "unit_4_valuation", None, "capstone"),
]
FILLER = ("page_view", "page_view", "video_play", "hint_opened")


def create_students(session: Session, count: int, *, first_id: int = 1, seed: int = 7) -> list[int]:
    rnd = random.Random(seed)
    rows = [{"id": first_id + i, "email": f"student{first_id + i}@cohort.example",
             "full_name": f"Student {first_id + i}", "cohort": rnd.choice(COHORTS)} for i in range(count)]
    for start in range(0, len(rows), 5000):
        session.execute(insert(Student), rows[start:start + 5000])
    return [r["id"] for r in rows]


def write_events(path: str | Path, student_ids: list[int], *, events: int, days: int = 180, seed: int = 7,
                 end: date | None = None, company_ids: list[int] | None = None, tz: str = "America/New_York") -> int:
    """Write about `events` events for the students over `days` days ending `end`.

    Drop-off truncates budgets, so a counting pass calibrates the scale first."""
    scale = 1.0
    for _ in range(4):
        counted = _generate(None, student_ids, per_student=events * scale / max(1, len(student_ids)), days=days,
                            seed=seed, end=end, company_ids=company_ids, tz=tz, intensity=scale)
        if abs(counted - events) < 0.02 * events:
            break
        scale *= events / max(1, counted)
    with open(path, "w", encoding="utf-8") as out:
        return _generate(out, student_ids, per_student=events * scale / max(1, len(student_ids)), days=days,
                         seed=seed, end=end, company_ids=company_ids, tz=tz, intensity=scale)


def _generate(out, student_ids, *, per_student, days, seed, end, company_ids, tz, intensity=1.0) -> int:
    rnd = random.Random(seed)
    zone = ZoneInfo(tz)
    end = end or date.today()
    first = end - timedelta(days=days - 1)
    written = 0
    for user_id in student_ids:
        # Enrolment spread over the first two thirds; engagement varies a lot.
        start = first + timedelta(days=int(rnd.random() ** 1.5 * days * 0.66))
        budget = max(3, int(rnd.lognormvariate(math.log(per_student) - 0.3, 0.75)))
        dropout = rnd.uniform(0.01, 0.08)
        company = rnd.choice(company_ids) if company_ids else None
        skip_lessons = rnd.random() < 0.08
        step, failures, day, produced = 0, 0, start, 0
        while produced < budget and day <= end:
            weekday = day.weekday()
            if rnd.random() < (0.55 if weekday < 5 else 0.25):
                minute = rnd.randint(7 * 60, 23 * 60)
                moment = datetime.combine(day, time(minute // 60, minute % 60), zone)
                session_id = f"s{user_id}-{day.isoformat()}"
                for _ in range(min(budget - produced, rnd.randint(1, max(2, round(6 * intensity))))):
                    etype, module, unit, lesson, activity = PATH[min(step, len(PATH) - 1)]
                    if etype == "lesson_view" and skip_lessons and step < len(PATH):
                        step += 1
                        continue
                    if step >= len(PATH) or rnd.random() < 0.3:
                        etype, lesson, activity = rnd.choice(FILLER), None, None
                    elif etype == "validator_pass" and failures < 3 and rnd.random() < 0.35:
                        etype, failures, step = "validator_fail", failures + 1, step - 1  # fix, resubmit
                    else:
                        failures = 0 if etype == "validator_pass" else failures
                        step += 1
                    spent, octet, stamp = rnd.randint(20, 900), rnd.randint(1, 254), moment
                    produced += 1
                    moment += timedelta(seconds=rnd.randint(30, 1500))
                    if out is None:
                        continue
                    record = {
                        "user_id": user_id, "event_type": etype, "module": module, "unit": unit,
                        "lesson": lesson, "activity": activity, "company_id": company,
                        "session_id": session_id, "time_spent_seconds": spent,
                        "ip_address": f"198.51.{user_id % 250}.{octet}",
                        "event_timestamp": stamp.isoformat(),
                    }
                    out.write(json.dumps(record, separators=(",", ":")) + "\n")
            day += timedelta(days=1)
            if rnd.random() < dropout:
                break
        written += produced
    return written


CHECKS = {
    "a1_drivers_map": ("business_foundations", ["required_sheets", "no_error_values", "revenue_build"]),
    "a2_wc_debt": ("accounting_i", ["required_sheets", "no_error_values", "bs_balances", "cash_ties",
                                    "net_income_ties", "forecast_formulas"]),
    "capstone": ("finance_valuation", ["required_sheets", "no_error_values", "bs_balances", "cash_ties",
                                       "net_income_ties", "forecast_formulas", "price_targets"]),
}


def create_submissions(session: Session, student_ids: list[int], companies: list[int], *, seed: int = 7,
                       end: date | None = None) -> int:
    """Submissions with validator reports (stored as the flat findings list)
    and feedback with rubric scores, so the outcome charts have something to show.
    Students who put in more attempts pass more often, as in life."""
    rnd = random.Random(seed + 1)
    end = end or date.today()
    first_id = (session.scalar(select(func.max(LearningSubmission.id))) or 0) + 1
    submissions, feedback = [], []
    for user_id in student_ids:
        company = rnd.choice(companies)
        effort = rnd.random()
        for activity, (module, checks) in list(CHECKS.items())[: rnd.choice([0, 1, 1, 2, 2, 3])]:
            versions = rnd.randint(1, 4)
            for version in range(1, versions + 1):
                passed = rnd.random() < 0.25 + 0.6 * effort or (version == versions and effort > 0.5)
                failing = [] if passed else rnd.sample(checks, rnd.randint(1, min(3, len(checks))))
                report = {"status": "failed" if failing else "passed", "checks": [
                    {"id": c, "status": "failed" if c in failing else "passed",
                     "findings": [{"sheet": "Balance Sheet", "cell": "C12", "message": f"{c} does not hold"}]
                     if c in failing else []} for c in checks]}
                sid = first_id + len(submissions)
                created = datetime.combine(end - timedelta(days=rnd.randint(0, 170)), time(12), UTC)
                submissions.append({
                    "id": sid, "user_id": user_id, "company_id": company, "activity_id": activity, "module": module,
                    "submission_type": "excel", "version": version, "file_path": f"submissions/{user_id}/{sid}.xlsx",
                    "file_name": "model.xlsx", "validator_status": report["status"],
                    "validator_errors": flat_errors(report),  # the one stored shape (issue 13)
                    "is_latest": version == versions, "created_at": created,
                })
                if passed:
                    feedback.append({"submission_id": sid, "user_id": user_id, "feedback_type": "rubric",
                                     "feedback_text": "Generated for the benchmark.", "release_state": "released",
                                     "rubric_composite": round(50 + 45 * effort * rnd.random() + 5 * rnd.random(), 2)})
    for start in range(0, len(submissions), 5000):
        session.execute(insert(LearningSubmission), submissions[start:start + 5000])
    for start in range(0, len(feedback), 5000):
        session.execute(insert(LearningFeedback), feedback[start:start + 5000])
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('learning_submissions', 'id'), "
                             "(SELECT MAX(id) FROM learning_submissions))"))
    return len(submissions)


def company_ids(session: Session) -> list[int]:
    return list(session.scalars(select(LearningCompany.id)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    count = write_events(args.out, list(range(1, args.students + 1)), events=args.events, days=args.days,
                         seed=args.seed)
    print(f"wrote {count} events to {args.out}")


if __name__ == "__main__":
    main()
