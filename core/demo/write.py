"""Writing the simulated cohort: judged workbooks in storage, then every row in bulk
inserts (200 students take a few seconds).
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core import audit, catalogue, content_tree, leaderboard_entries, submissions, telemetry
from core.access import SYSTEM_EMAIL, SYSTEM_NAME, Actor
from core.db import utcnow
from core.demo.cohort import DAYS, PERSONAS, PRICE, Sim, Step
from core.feedback.generation import failure_row, feedback_row
from core.models import (
    AuditLog,
    FeedbackFailure,
    LearningCompany,
    LearningFeedback,
    LearningLeaderboard,
    LearningProgress,
    LearningSubmission,
    LearningTelemetry,
    StaffUser,
    Student,
    ValidatorRun,
)
from core.rules import ActivityRules


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


def _feedback_text(rng: random.Random, company: str, title: tuple[str, str], scores: dict[str, float]) -> tuple:
    """`title` is the activity's (key, title)."""
    weakest = min(scores, key=scores.__getitem__)
    strongest = max(scores, key=scores.__getitem__)
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
    tree = content_tree.current(session)
    weights = {key: (tree.rules(key) or ActivityRules()).weights for key in titles}
    window_start = today - timedelta(days=DAYS)

    student_ids = session.scalars(
        insert(Student).returning(Student.id, sort_by_parameter_order=True),
        [dict(email=s.email, full_name=s.name, cohort=s.cohort,
              created_at=datetime.combine(window_start, time(12), tzinfo=UTC)) for s in sims],
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
            row = submissions.submission_row(
                student_id=uid, company_id=company_ids[sim.ticker], activity_id=step.key, module=step.module,
                submission_type="excel", version=sub["version"], stored=stored,
                name=f"{sim.ticker}_{step.key}_v{sub['version']}.xlsx",
                notes=rng.choice([None, None, None, "Second attempt after fixing the plug.",
                                  "Not sure about my WACC.", "Revenue build uses segment data."]),
                is_latest=is_latest, ai_detection_status=ai_status, created_at=sub["at"])
            # What record_run, AI detection, feedback and review later write onto the row.
            sub_rows.append(dict(
                row, validator_status=report["status"],
                validator_errors=[dict(check=c["id"], **f) for c in report["checks"] for f in c["findings"]],
                validator_run_at=sub["at"] + timedelta(seconds=20), ai_detection_score=ai_score,
                ai_detection_details=ai_details,
                ai_detection_run_at=sub["at"] + timedelta(seconds=40) if ai_details else None,
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
            submissions.validator_run_row(submission_id=sid, status=rep["status"], report=rep, run_by=None,
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
            failures.append(failure_row(submission_id=sid, provider="openai", model="gpt-4o-mini",
                                        persona="project_lead",
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
        row = feedback_row(
            submission_id=sid, user_id=uid, persona=persona,
            data=dict(feedback_text=text, strengths=strengths, areas_for_improvement=areas,
                      specific_suggestions=suggestions, scores=scores),
            composite=composite, provider="openai" if openai else "rubric",
            model="gpt-4o-mini-2024-07-18" if openai else None,
            tokens=dict(tokens_in=tin if openai else None, tokens_cached=tcached if openai else None,
                        tokens_out=tout if openai else None), cost=cost,
            prompt=_prompt(persona, row_of[sid], titles[step.key][1], rep), flags=[],
            hold_reasons=["Flagged by a moderator for a second look."] if flagged else [],
            # Flagged items are held back from the student until a moderator decides.
            release_state="held" if flagged else "released",
            released_at=None if flagged else created + timedelta(minutes=1), created_at=created)
        # A moderator's flag, as moderation.flag would set it.
        fb_rows.append(dict(
            row, is_flagged=flagged,
            flag_reason=rng.choice(["Praises a tie the reviewer disputes.", "Tone too harsh for a first attempt.",
                                    "Suggests an assumption outside the package."]) if flagged else None,
            flagged_by=admin.id if flagged else None,
            flagged_at=created + timedelta(hours=rng.randint(2, 30)) if flagged else None,
        ))
        if flagged:
            audits.append(dict(audit.entry_row(actor=admin, action="feedback.flag", target_type="feedback",
                                               details={"submission_id": sid}),
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
            audits.append(dict(audit.entry_row(actor=actor, action="submission.review", target_type="submission", target_id=sid,
                                               details={"notes": row["review_notes"]}),
                               created_at=row["reviewed_at"]))

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
        board.append(dict(leaderboard_entries.entry_row(
            user_id=uid, company_id=company_ids[sim.ticker], anonymous_id=anon,
            submission_id=sub_id_of[(uid, id(capstone))], targets=targets, valuation_date=sim.capstone_at.date()),
            created_at=sim.capstone_at))
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
            fields = {k: v for k, v in e.items() if k != "_sub"}
            chunk.append(telemetry.event_row(user_id=uid, company_id=company_ids[sim.ticker], submission_id=(
                sub_id_of[(uid, id(sim.submissions[sub_index]))] if sub_index is not None else None), **fields))
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
    seeder = Actor(id=None, email=SYSTEM_EMAIL, display_name=SYSTEM_NAME, role="admin")
    audits.append(dict(audit.entry_row(actor=seeder, action="demo.seed", target_type="database",
                                       details={"students": len(sims), "seed": seed, "today": today.isoformat()}),
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
