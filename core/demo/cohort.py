"""The simulated cohort: who the students are and what each one does, day by day,
before any row exists. Randomness is seeded per student, so a seed gives one cohort.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from core import catalogue

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


def _ts(day: date, minute_of_day: int) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=minute_of_day)


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


# sheet and hard-code forecasts far more often than they delete a sheet).
FLAW_WEIGHTS = {"unbalanced": 5, "hardcoded_forecast": 4, "cash_mismatch": 3, "revenue_mismatch": 4,
                "error_value": 2, "net_income_mismatch": 2, "missing_price_target": 2, "missing_sheet": 1}


def _pick_flaw(rng: random.Random, activity: str) -> str:
    from core.validation.templates import flaws_for

    flaws = flaws_for(activity)
    return rng.choices(flaws, weights=[FLAW_WEIGHTS.get(f, 1) for f in flaws])[0]
