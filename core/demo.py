"""The demo cohort: a reproducible, realistic program run over the last ~90 days.

Each student is simulated day by day: a cohort start date, a weekday rhythm, an
engagement level and a drop-off day. On active days they read lessons in sequence,
start activities, submit workbooks (real .xlsx files in storage) that fail or pass
validation, get feedback, and capstone finishers land on the leaderboard. Progress
rows are derived from the same simulation, so every figure agrees with the events.

Rows go in with bulk inserts, so 200 students take a few seconds. Randomness comes
from `random.Random` seeded per student, so the same seed gives the same cohort.
Company packages are built afterwards by the real pipeline (core.packages) from
generated companyfacts (core.demo_files), one build per version.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import auth, catalogue, companies, config, demo_grades, storage as storage_mod
from core.access import SYSTEM_EMAIL
from core.db import session_scope, utcnow
from core.demo_files import companyfacts_for, filed_through, latest_filed_year
from core.errors import Forbidden
from core.models import (
    AuditLog, FeedbackFailure, LearningCompany, LearningFeedback, LearningLeaderboard, LearningPackage,
    LearningProgress, LearningSubmission, LearningTelemetry, StaffUser, Student, ValidatorRun,
)

DAYS = 90
COHORTS = [("2026-spring", 0), ("2026-summer", 21), ("2026-fall", 42)]  # name, start offset in days
FIRST = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Imani", "Jonas", "Kira", "Luis",
         "Maya", "Noah", "Olu", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yusuf", "Zoe"]
LAST = ["Adams", "Bauer", "Chen", "Diaz", "Eze", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
        "Lopez", "Mensah", "Nakamura", "Okafor", "Patel", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Wang"]
# Uneven popularity, so some companies have fewer than five leaderboard entries.
COMPANY_WEIGHTS = {"TSLA": 18, "COST": 12, "SHOP": 10, "UBER": 12, "ABNB": 10, "DE": 6, "GE": 5, "KO": 9,
                   "BUD": 4, "GSBD": 2}
# Keys of core.feedback.personas.PERSONAS, weighted: most feedback uses the default voice.
PERSONAS = ["project_lead", "project_lead", "project_lead", "portfolio_manager", "teaching_assistant"]
AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", "Mozilla/5.0 (Macintosh) Safari/17.6",
          "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"]
# gpt-4o-mini list prices per million tokens (input, cached input, output).
PRICE = (Decimal("0.15"), Decimal("0.075"), Decimal("0.60"))


@dataclass(frozen=True)
class Step:
    kind: str  # lesson | activity
    key: str
    module: str
    unit: str
    minutes: int


def _sequence() -> list[Step]:
    steps: list[Step] = []
    for module in catalogue.TREE:
        for unit in module.get("children", []):
            for item in unit.get("children", []):
                steps.append(Step(item["content_type"], item["content_key"], module["content_key"],
                                  unit["content_key"], item.get("estimated_duration_minutes") or 30))
    return steps


@dataclass
class Sim:
    """One student's simulated run, before ids exist."""

    index: int
    email: str
    name: str
    cohort: str
    ticker: str
    events: list[dict] = field(default_factory=list)
    submissions: list[dict] = field(default_factory=list)  # each with its report and file
    active_days: set[date] = field(default_factory=set)
    completed: list[Step] = field(default_factory=list)
    position: int = 0
    capstone_at: datetime | None = None


@dataclass
class DemoSummary:
    students: int
    submissions: int
    events: int
    feedback: int
    leaderboard: int
    packages: int
    skipped: bool = False
    accounts: list[tuple[str, str, str]] = field(default_factory=list)


def seed_demo(
    engine: Engine, *, students: int = 200, seed: int = 7, storage=None, today: date | None = None,
    if_empty: bool = False,
) -> DemoSummary:
    """Generate the cohort into `engine`. No demo-mode check: `seed_demo_cli` does that.

    `today` anchors the 90-day window (default: today, UTC), so a fixed date and seed
    give identical rows. With `if_empty`, a database that already has students is left
    as it is (only the demo accounts are synced).
    """
    if students < 1:
        raise ValueError("students must be at least 1")
    store = storage or storage_mod.default_storage()
    today = today or utcnow().date()
    with session_scope(engine) as session:
        companies.seed_curated(session)
        catalogue.seed_catalogue(session)
        accounts = auth.sync_demo_accounts(session, demo=True)
        if if_empty and session.scalar(select(func.count()).select_from(Student)):
            return DemoSummary(0, 0, 0, 0, 0, 0, skipped=True, accounts=accounts)
    steps = _sequence()
    sims = [_simulate(i, seed, steps, today) for i in range(students)]
    with session_scope(engine) as session:
        summary = _write(session, sims, steps, seed, store, today)
    # After the cohort's transaction: each build takes its own write transaction.
    summary.packages = _packages(engine, store, today, seed)
    demo_grades.seed_grades(engine, seed=seed)  # issue 13: grades in every workflow state
    summary.accounts = accounts
    return summary


def seed_demo_cli(engine: Engine, students: int = 200, seed: int = 7, if_empty: bool = False) -> DemoSummary:
    """`ngi seed --demo`: only into the embedded SQLite database (demo mode)."""
    if not config.demo_mode():
        with session_scope(engine) as session:
            auth.sync_demo_accounts(session, demo=False)
        raise Forbidden(
            "Demo mode is off (DATABASE_URL is set or NGI_DEMO_MODE=0), so no demo cohort or demo "
            "accounts are created; the demo runs only on the embedded SQLite database."
        )
    summary = seed_demo(engine, students=students, seed=seed, if_empty=if_empty)
    if summary.skipped:
        print("demo: the database already has students; cohort left as it is")
    else:
        print(f"demo: {summary.students} students, {summary.submissions} submissions, {summary.events} events, "
              f"{summary.feedback} feedback, {summary.leaderboard} leaderboard entries, "
              f"{summary.packages} packages")
    print("demo staff accounts (sign in at http://localhost:8501):")
    for email, password, role in summary.accounts:
        print(f"  {role:<13} {email:<24} password: {password}")
    return summary


# --- simulation ----------------------------------------------------------------


def _ts(day: date, minute_of_day: int) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc) + timedelta(minutes=minute_of_day)


def _simulate(i: int, seed: int, steps: list[Step], today: date) -> Sim:
    rng = random.Random(f"ngi-demo-{seed}-{i}")
    cohort, offset = COHORTS[i % len(COHORTS)]
    first, last = rng.choice(FIRST), rng.choice(LAST)
    sim = Sim(index=i, email=f"{first.lower()}.{last.lower()}.{i + 1:04d}@students.demo.ngi",
              name=f"{first} {last}", cohort=cohort,
              ticker=rng.choices(list(COMPANY_WEIGHTS), weights=list(COMPANY_WEIGHTS.values()))[0])
    start = today - timedelta(days=DAYS) + timedelta(days=offset + rng.randint(0, 6))
    engagement = rng.betavariate(2.5, 1.8)
    # Drop-off: a share never really start, many fade, the keen ones stay to the end.
    lifetime = int(rng.expovariate(1 / 40)) + 3 if engagement < 0.68 else DAYS
    end = min(today - timedelta(days=1), start + timedelta(days=lifetime))
    pending: dict | None = None  # the activity in progress: {step, day_started, version}
    day = start
    while day <= end and sim.position < len(steps):
        rhythm = 0.62 if day.weekday() < 5 else 0.22
        if rng.random() < rhythm * (0.35 + engagement):
            pending = _active_day(sim, rng, steps, day, pending, engagement)
        day += timedelta(days=1)
    return sim


def _active_day(sim: Sim, rng: random.Random, steps: list[Step], day: date, pending, engagement):
    session_id = hashlib.sha1(f"{sim.email}{day}".encode()).hexdigest()[:16]
    minute = rng.choice([8 * 60, 12 * 60, 17 * 60, 19 * 60, 21 * 60]) + rng.randint(0, 50) + 300  # ET → UTC
    agent = AGENTS[sim.index % len(AGENTS)]

    def event(kind, category, step=None, seconds=None, **extra):
        nonlocal minute
        sub = extra.pop("_sub", None)
        sim.events.append(dict(
            event_type=kind, event_category=category, module=step.module if step else None,
            unit=step.unit if step else None, lesson=step.key if step and step.kind == "lesson" else None,
            activity=step.key if step and step.kind == "activity" else None, session_id=session_id,
            time_spent_seconds=seconds, user_agent=agent, ip_address=f"10.{sim.index % 200}.{sim.index % 7}.0",
            event_timestamp=_ts(day, minute), event_data=extra or None, _sub=sub))
        minute += max(1, (seconds or 60) // 60)

    sim.active_days.add(day)
    event("session_start", "session")
    budget = int(rng.uniform(15, 70) * (0.6 + engagement))
    while budget > 0 and sim.position < len(steps):
        step = steps[sim.position]
        if step.kind == "lesson":
            seconds = int(step.minutes * 60 * rng.uniform(0.6, 1.4))
            event("lesson_view", "learning", step, seconds)
            if rng.random() < 0.9:
                event("lesson_complete", "learning", step, 0)
                sim.completed.append(step)
                sim.position += 1
            budget -= seconds // 60
            continue
        if pending is None or pending["step"] != step:
            # Bigger activities take more working sessions before the first submission.
            need = {"a1_drivers_map": (2, 4), "a2_wc_debt": (3, 7), "capstone": (4, 9)}.get(step.key, (2, 5))
            pending = {"step": step, "version": 0, "work": 0, "need": rng.randint(*need)}
            event("activity_start", "learning", step, int(rng.uniform(10, 30) * 60))
            budget = 0
            continue
        work = int(rng.uniform(30, 120) * 60)
        event("activity_work", "learning", step, work)
        pending["work"] += 1
        if pending["work"] >= pending["need"]:
            pending["need"] += rng.randint(1, 2)  # a failed attempt takes another session or two
            pending["version"] += 1
            version = pending["version"]
            fail_p = {1: 0.55, 2: 0.35, 3: 0.2}.get(version, 0.0)
            failure = _pick_flaw(rng, step.key) if rng.random() < fail_p else None
            at = _ts(day, minute)
            sub = dict(step=step, version=version, failure=failure, at=at, rng_seed=rng.getrandbits(64),
                       key_hex=f"{rng.getrandbits(128):032x}")
            sim.submissions.append(sub)
            event("submission", "submission", step, 0, _sub=len(sim.submissions) - 1, version=version)
            event("validator_fail" if failure else "validator_pass", "submission", step, 0,
                  _sub=len(sim.submissions) - 1, failed_check=failure)
            if not failure:
                sub["feedback"] = rng.random() < 0.93
                if sub["feedback"]:
                    event("feedback_issued", "feedback", step, 0, _sub=len(sim.submissions) - 1)
                    if rng.random() < 0.7:
                        event("feedback_viewed", "feedback", step, int(rng.uniform(2, 8) * 60),
                              _sub=len(sim.submissions) - 1)
                sim.completed.append(step)
                sim.position += 1
                if step.key == "capstone":
                    sim.capstone_at = at
                pending = None
        budget = 0
    event("session_end", "session", seconds=0)
    return pending


# --- writing -------------------------------------------------------------------

# How often each flaw appears among failed attempts (students unbalance the balance
# sheet and hard-code forecasts far more often than they delete a sheet).
FLAW_WEIGHTS = {"unbalanced": 5, "hardcoded_forecast": 4, "cash_mismatch": 3, "revenue_mismatch": 4,
                "error_value": 2, "net_income_mismatch": 2, "missing_price_target": 2, "missing_sheet": 1}


def _pick_flaw(rng: random.Random, activity: str) -> str:
    from core.validation.templates import flaws_for

    flaws = flaws_for(activity)
    return rng.choices(flaws, weights=[FLAW_WEIGHTS.get(f, 1) for f in flaws])[0]


class _Judge:
    """Builds a model workbook and runs the real validators on it. Capstones are built
    per student (their price targets feed the leaderboard); other activities come from
    a small pool per (company, activity, flaw), which keeps 200 students fast."""

    POOL = 3

    def __init__(self):
        self.cache: dict[tuple, tuple[bytes, dict]] = {}

    def __call__(self, ticker: str, activity: str, flaw: str | None, seed: int) -> tuple[bytes, dict]:
        from core.validation import validate_path
        from core.validation.templates import build_model

        key = (ticker, activity, flaw, seed if activity == "capstone" else seed % self.POOL)
        if key not in self.cache:
            data = build_model(activity, company_ticker=ticker, rng=random.Random(repr(key)), flaw=flaw)
            fd, tmp = tempfile.mkstemp(suffix=".xlsx")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                report = validate_path(tmp, activity_id=activity, name=f"{ticker}_{activity}.xlsx").to_dict()
            finally:
                os.unlink(tmp)
            self.cache[key] = (data, report)
        return self.cache[key]


STRENGTHS = {
    "a1_drivers_map": ["The Q × P split is clear and each driver is labelled with its unit.",
                       "Driver revenue reconciles to reported revenue in every historical year.",
                       "Volume and price are kept on separate rows, so the build is easy to audit."],
    "a2_wc_debt": ["The balance sheet balances in every forecast year.",
                   "Working capital is driven by days metrics rather than hard-coded balances.",
                   "The debt schedule feeds interest expense and the cash-flow statement correctly."],
    "capstone": ["The DCF and comparables are reconciled into one defensible target.",
                 "The WACC inputs are sourced and the terminal growth rate is conservative.",
                 "The recommendation follows from the valuation rather than the other way round."],
}
AREAS = ["Several assumptions have no source written next to them.",
         "Inputs and formulas share the same formatting, so it is hard to see what was typed in.",
         "The forecast growth rates are not tied back to the company's history.",
         "Units change between sheets (thousands on one, millions on another)."]
SUGGESTIONS = ["Add a one-line source note beside each growth and margin assumption.",
               "Colour inputs blue and formulas black, as in the package.",
               "Compare forecast growth with the last three reported years and explain any break.",
               "State the units in every sheet header."]


def _prompt(persona_key: str, submission: dict, title: str, report: dict) -> dict:
    """What a moderator sees as "the prompt used": the persona's real system prompt and a
    compact brief, labelled the way core.feedback labels students (never a name)."""
    from core.feedback.personas import PERSONAS as VOICES
    from core.feedback.prompt import SCHEMA_NAME

    digest = hashlib.sha256(f"ngi-label:{submission['file_path']}".encode()).hexdigest()
    label = f"Analyst {digest[:6].upper()}"
    checks = ", ".join(f"{c['id']} {c['status']}" for c in report.get("checks", []))
    user = (f"Student: {label}\nActivity: {title}\nValidator report: {report.get('status')} ({checks})\n"
            f"Outputs: {report.get('outputs') or {}}")
    return {"persona": persona_key, "label": label, "schema": SCHEMA_NAME,
            "system": VOICES[persona_key].system_prompt, "user": user,
            "notices": ["Demo cohort: this feedback was written by the demo generator; no model was called."]}


def _feedback_text(rng: random.Random, company: str, title: str, scores: dict[str, float]) -> tuple:
    weakest = min(scores, key=scores.get)
    strongest = max(scores, key=scores.get)
    strengths = rng.sample(STRENGTHS[title[0]], 2)
    areas = rng.sample(AREAS, 2)
    suggestions = rng.sample(SUGGESTIONS, 2)
    text = (f"Good work on {title[1].lower()} for {company.rstrip('.')}. {strengths[0]} Your strongest area is "
            f"{strongest} ({scores[strongest]:.0f}/100). The weakest is {weakest} "
            f"({scores[weakest]:.0f}/100): {areas[0][0].lower()}{areas[0][1:]} Next step: {suggestions[0]}")
    return text, strengths, areas, suggestions


def _write(session: Session, sims: list[Sim], steps: list[Step], seed: int, store, today: date) -> DemoSummary:
    if session.scalar(select(func.count()).select_from(Student).where(Student.email.like("%@students.demo.ngi"))):
        from core.errors import Conflict

        raise Conflict("This database already has a demo cohort; use `ngi seed --demo --if-empty` "
                       "or start from a fresh database.")
    rng = random.Random(f"ngi-demo-{seed}-write")
    company_rows = {c.ticker: c for c in session.scalars(select(LearningCompany))}
    company_ids = {t: c.id for t, c in company_rows.items()}
    staff = {u.role: u for u in session.scalars(select(StaffUser).where(StaffUser.is_demo.is_(True)))}
    admin, instructor = staff["admin"], staff["instructor"]
    titles = {s.key: (s.key, _title(s.key)) for s in steps if s.kind == "activity"}
    weights = {key: (catalogue.activity_spec(key) or {}).get("rubric_criteria", {}).get("weights", {})
               for key in titles}
    window_start = today - timedelta(days=DAYS)

    student_ids = session.scalars(
        insert(Student).returning(Student.id, sort_by_parameter_order=True),
        [dict(email=s.email, full_name=s.name, cohort=s.cohort,
              created_at=datetime.combine(window_start, time(12), tzinfo=timezone.utc)) for s in sims],
    ).all()

    # Submissions, with a real file each, judged by the real validator engine.
    judged = _Judge()
    sub_rows, sub_meta = [], []
    for sim, uid in zip(sims, student_ids):
        latest = {}
        for n, sub in enumerate(sim.submissions):
            latest[sub["step"].key] = n
        for n, sub in enumerate(sim.submissions):
            step = sub["step"]
            data, report = judged(sim.ticker, step.key, sub["failure"], sub["rng_seed"])
            stored = store.put(f"submissions/{uid}/{step.key}/{sub['key_hex']}.xlsx", io.BytesIO(data))
            is_latest = latest[step.key] == n
            ai = rng.random()
            ai_status, ai_score, ai_details = "not_run", None, None
            if ai < 0.4:
                flagged = ai < 0.03
                ai_score = Decimal(str(round(rng.uniform(72, 96) if flagged else rng.uniform(1, 45), 2)))
                ai_status = "flagged" if flagged else "clean"
                ai_details = {"model_version": "2025-11-demo", "completely_generated_prob": float(ai_score) / 100,
                              "note": "One signal among others, never proof."}
            reviewed = is_latest and (today - sub["at"].date()).days > 4 and rng.random() < 0.6
            reviewer = instructor if rng.random() < 0.8 else admin
            passed = report["status"] == "passed"
            sub_rows.append(dict(
                user_id=uid, company_id=company_ids[sim.ticker], activity_id=step.key, module=step.module,
                submission_type="excel", version=sub["version"], file_path=stored.key,
                file_name=f"{sim.ticker}_{step.key}_v{sub['version']}.xlsx", file_size_bytes=stored.size,
                file_hash=stored.sha256, validator_status=report["status"],
                validator_errors=[dict(check=c["id"], **f) for c in report["checks"] for f in c["findings"]],
                validator_run_at=sub["at"] + timedelta(seconds=20), ai_detection_score=ai_score,
                ai_detection_status=ai_status, ai_detection_details=ai_details,
                ai_detection_run_at=sub["at"] + timedelta(seconds=40) if ai_details else None,
                submission_notes=rng.choice([None, None, None, "Second attempt after fixing the plug.",
                                             "Not sure about my WACC.", "Revenue build uses segment data."]),
                is_latest=is_latest, created_at=sub["at"],
                feedback_status=("generated" if sub.get("feedback") else "retry") if passed else None,
                reviewed_by=reviewer.id if reviewed else None,
                reviewed_at=sub["at"] + timedelta(days=rng.randint(1, 4)) if reviewed else None,
                review_notes=rng.choice(["Checked the ties; fine.", "Discussed the plug in office hours.",
                                         "Good model; memo still thin."]) if reviewed else None,
            ))
            sub_meta.append((sim, uid, sub, report))
    sub_ids = session.scalars(
        insert(LearningSubmission).returning(LearningSubmission.id, sort_by_parameter_order=True), sub_rows
    ).all() if sub_rows else []
    sub_id_of = {(m[1], id(m[2])): sid for m, sid in zip(sub_meta, sub_ids)}

    if sub_rows:
        session.execute(insert(ValidatorRun), [
            dict(submission_id=sid, status=rep["status"], report=rep, run_by=None,
                 run_at=sub["at"] + timedelta(seconds=20))
            for (sim, uid, sub, rep), sid in zip(sub_meta, sub_ids)
        ])

    # Feedback on passed submissions, failures where generation did not succeed.
    fb_rows, failures, audits = [], [], []
    row_of = dict(zip(sub_ids, sub_rows))
    for (sim, uid, sub, rep), sid in zip(sub_meta, sub_ids):
        if rep["status"] != "passed":
            continue
        step = sub["step"]
        if not sub.get("feedback"):
            failures.append(dict(submission_id=sid, provider="openai", model="gpt-4o-mini", persona="project_lead",
                                 error="The provider rate-limited the request (HTTP 429) three times; "
                                       "marked for retry.", created_at=sub["at"] + timedelta(minutes=3)))
            continue
        scores = {k: round(rng.uniform(55, 97), 1) for k in ("accuracy", "documentation", "presentation",
                                                              "reasoning")}
        w = weights[step.key] or {k: 0.25 for k in scores}
        composite = round(sum(scores[k] * w.get(k, 0) for k in scores) / (sum(w.values()) or 1), 2)
        text, strengths, areas, suggestions = _feedback_text(rng, company_rows[sim.ticker].company_name,
                                                             titles[step.key], scores)
        openai = rng.random() < 0.85
        tin, tcached, tout = rng.randint(2500, 6500), rng.randint(0, 1500), rng.randint(350, 900)
        cost = ((Decimal(tin - tcached) * PRICE[0] + Decimal(tcached) * PRICE[1] + Decimal(tout) * PRICE[2])
                / Decimal(1_000_000)).quantize(Decimal("0.000001")) if openai else Decimal("0")
        created = sub["at"] + timedelta(minutes=2)
        persona = rng.choice(PERSONAS)
        flagged = rng.random() < 0.07
        fb_rows.append(dict(
            submission_id=sid, user_id=uid, feedback_type="rubric", persona=persona,
            feedback_text=text, strengths=strengths, areas_for_improvement=areas,
            specific_suggestions=suggestions, rubric_accuracy=Decimal(str(scores["accuracy"])),
            rubric_documentation=Decimal(str(scores["documentation"])),
            rubric_presentation=Decimal(str(scores["presentation"])),
            rubric_reasoning=Decimal(str(scores["reasoning"])), rubric_composite=Decimal(str(composite)),
            provider="openai" if openai else "rubric", openai_model="gpt-4o-mini-2024-07-18" if openai else None,
            openai_tokens_input=tin if openai else None, openai_tokens_cached=tcached if openai else None,
            openai_tokens_output=tout if openai else None, openai_cost_usd=cost,
            prompt=_prompt(persona, row_of[sid], titles[step.key][1], rep),
            is_flagged=flagged,
            flag_reason=rng.choice(["Praises a tie the reviewer disputes.", "Tone too harsh for a first attempt.",
                                    "Suggests an assumption outside the package."]) if flagged else None,
            flagged_by=admin.id if flagged else None,
            flagged_at=created + timedelta(hours=rng.randint(2, 30)) if flagged else None,
            # Flagged items are held back from the student until a moderator decides.
            release_state="held" if flagged else "released", auto_flags=[],
            hold_reasons=["Flagged by a moderator for a second look."] if flagged else [],
            released_at=None if flagged else created + timedelta(minutes=1),
            created_at=created,
        ))
        if flagged:
            audits.append(dict(actor_id=admin.id, actor_email=admin.email, action="feedback.flag",
                               target_type="feedback", target_id=None, details={"submission_id": sid},
                               created_at=created + timedelta(hours=2)))
    if fb_rows:
        fb_ids = session.scalars(
            insert(LearningFeedback).returning(LearningFeedback.id, sort_by_parameter_order=True), fb_rows
        ).all()
        by_sub = {row["submission_id"]: fid for row, fid in zip(fb_rows, fb_ids)}
        for a in audits:
            a["target_id"] = str(by_sub[a["details"]["submission_id"]])
    if failures:
        session.execute(insert(FeedbackFailure), failures)
    for row, sid in zip(sub_rows, sub_ids):
        if row["reviewed_by"]:
            actor = instructor if row["reviewed_by"] == instructor.id else admin
            audits.append(dict(actor_id=actor.id, actor_email=actor.email, action="submission.review",
                               target_type="submission", target_id=str(sid),
                               details={"notes": row["review_notes"]}, created_at=row["reviewed_at"]))

    # Leaderboard: one row per capstone finisher, anonymous ids unique per company.
    board, used = [], set()
    report_of = {(uid, id(sub)): rep for sim, uid, sub, rep in sub_meta}
    for sim, uid in zip(sims, student_ids):
        if sim.capstone_at is None:
            continue
        capstone = [sub for sub in sim.submissions if sub["step"].key == "capstone"][-1]
        targets = report_of[(uid, id(capstone))].get("outputs") or {}
        if targets.get("final_price_target") is None:
            continue
        while True:
            anon = f"Analyst_{rng.getrandbits(24):06X}"
            if (sim.ticker, anon) not in used:
                used.add((sim.ticker, anon))
                break
        board.append(dict(user_id=uid, company_id=company_ids[sim.ticker], anonymous_id=anon,
                          valuation_date=sim.capstone_at.date(), submission_id=sub_id_of[(uid, id(capstone))],
                          created_at=sim.capstone_at,
                          **{k: Decimal(str(round(v, 2))) for k, v in targets.items()
                             if k in ("dcf_price_target", "comps_price_target", "final_price_target")}))
    if board:
        session.execute(insert(LearningLeaderboard), board)

    # Progress, derived from the same simulation.
    session.execute(insert(LearningProgress), [
        _progress(sim, uid, company_ids[sim.ticker], steps, today) for sim, uid in zip(sims, student_ids)
    ])

    # Telemetry in chunks, so memory stays flat for large cohorts.
    events, chunk = 0, []
    for sim, uid in zip(sims, student_ids):
        for e in sim.events:
            sub_index = e["_sub"]
            row = {k: v for k, v in e.items() if k != "_sub"}
            row.update(user_id=uid, company_id=company_ids[sim.ticker], submission_id=(
                sub_id_of[(uid, id(sim.submissions[sub_index]))] if sub_index is not None else None))
            chunk.append(row)
        if len(chunk) >= 5000:
            session.execute(insert(LearningTelemetry), chunk)
            events += len(chunk)
            chunk = []
    if chunk:
        session.execute(insert(LearningTelemetry), chunk)
        events += len(chunk)

    # The analytics rollups and learning_progress are derived from raw events; derive
    # them the same way live ingestion does, so every page agrees with the events.
    from core import progress

    progress.recompute(session)
    audits.append(dict(actor_id=None, actor_email=SYSTEM_EMAIL, action="demo.seed", target_type="database",
                       target_id=None, details={"students": len(sims), "seed": seed, "today": today.isoformat()},
                       created_at=utcnow()))
    session.execute(insert(AuditLog), audits)
    session.flush()
    return DemoSummary(students=len(sims), submissions=len(sub_rows), events=events, feedback=len(fb_rows),
                       leaderboard=len(board), packages=0)


def _title(key: str) -> str:
    spec = catalogue.activity_spec(key) or {}
    return spec.get("title", key)


def _streaks(days: set[date], today: date) -> tuple[int, int, list[dict]]:
    if not days:
        return 0, 0, []
    ordered = sorted(days)
    longest = run = 1
    milestones, reached = [], set()
    for prev, cur in zip([None, *ordered], ordered):
        run = run + 1 if prev is not None and (cur - prev).days == 1 else 1
        longest = max(longest, run)
        for m in (3, 7, 14, 30, 60, 100):
            if run >= m and m not in reached:
                reached.add(m)
                milestones.append({"days": m, "achieved_at": cur.isoformat()})
    current = run if (today - ordered[-1]).days <= 1 else 0
    return current, longest, milestones


def _progress(sim: Sim, uid: int, company_id: int, steps: list[Step], today: date) -> dict:
    done = {s.key for s in sim.completed}
    activities = [s for s in steps if s.kind == "activity"]
    units = {s.unit for s in steps}
    modules = {s.module for s in steps}
    units_done = sum(all(s.key in done for s in steps if s.unit == u) for u in units)
    modules_done = sum(all(s.key in done for s in steps if s.module == m) for m in modules)
    here = steps[min(sim.position, len(steps) - 1)]
    next_activity = next((s.key for s in steps[sim.position:] if s.kind == "activity"), activities[-1].key)
    current, longest, milestones = _streaks(sim.active_days, today)
    starts = [e["event_timestamp"] for e in sim.events if e["event_type"] == "session_start"]
    minutes = sum(e["time_spent_seconds"] or 0 for e in sim.events) // 60
    n_done = sum(a.key in done for a in activities)
    return dict(
        user_id=uid, selected_company_id=company_id, current_module=here.module, current_unit=here.unit,
        current_activity=next_activity, modules_completed=modules_done, units_completed=units_done,
        activities_completed=n_done, completion_percentage=Decimal(str(round(100 * n_done / len(activities), 2))),
        current_streak_days=current, longest_streak_days=longest,
        last_activity_date=max(sim.active_days) if sim.active_days else None, streak_milestones=milestones,
        total_minutes_invested=minutes, last_session_start=starts[-1] if starts else None,
        capstone_submitted=sim.capstone_at is not None, capstone_submitted_at=sim.capstone_at,
    )


# Versions per company, each built from one more annual filing than the last. GE's
# newest is stale (its fiscal year ended over 15 months ago); GSBD has none, so the
# home and packages pages show both cases. TSLA's first version fails validation.
PACKAGE_VERSIONS = {"TSLA": 3, "COST": 2, "SHOP": 2, "UBER": 2, "ABNB": 1, "DE": 2, "GE": 1, "KO": 2, "BUD": 1,
                    "GSBD": 0}


def _packages(engine: Engine, store, today: date, seed: int) -> int:
    """Package history for companies that have none yet, built by the real pipeline
    (core.packages.build_package) from generated companyfacts, as the demo admin."""
    from core.packages import build_package

    with session_scope(engine) as session:
        have = set(session.scalars(select(LearningPackage.company_id).distinct()))
        todo = [(c.ticker, SimpleNamespace(company_name=c.company_name, sec_cik=c.sec_cik,
                                           fiscal_year_end=c.fiscal_year_end))
                for c in session.scalars(select(LearningCompany).order_by(LearningCompany.ticker))
                if c.id not in have and PACKAGE_VERSIONS.get(c.ticker) and c.sec_cik]
        admin = session.scalar(select(StaffUser).where(StaffUser.is_demo.is_(True), StaffUser.role == "admin"))
        actor = auth.actor_of(admin)
    built = 0
    for ticker, company in todo:
        count = PACKAGE_VERSIONS[ticker]
        last = latest_filed_year(ticker, company.fiscal_year_end, today, stale=ticker == "GE")
        doc = companyfacts_for(ticker, company, random.Random(f"ngi-demo-{seed}-package-{ticker}"), last_year=last)
        name = f"CIK{int(company.sec_cik):010d}.json (generated for the NGI demo; not SEC data)"
        for version in range(1, count + 1):
            through = last - (count - version)
            content = json.dumps(filed_through(doc, through)).encode()
            result = build_package(engine, actor=actor, ticker=ticker, companyfacts=content, source_name=name,
                                   ingestion_method="manual", storage=store)
            # Date the build a few days after the filing it added, as if built then;
            # its audit entry moves with it.
            filed = max(date.fromisoformat(r["filed"]) for body in doc["facts"]["dei"].values()
                        for rows in body["units"].values() for r in rows if r["fy"] == through)
            at = datetime.combine(min(filed + timedelta(days=3), today), time(15), tzinfo=timezone.utc)
            with session_scope(engine) as session:
                session.execute(update(LearningPackage).where(LearningPackage.id == result.package_id)
                                .values(created_at=at))
                session.execute(update(AuditLog).where(AuditLog.target_type == "package",
                                                       AuditLog.target_id == str(result.package_id))
                                .values(created_at=at))
            built += 1
    return built
