"""`ngi feedback generate SUBMISSION_ID [--provider openai|rubric] [--persona P] [--json]`
and `ngi feedback retry` (every submission left marked for retry)."""

from __future__ import annotations

from core.auth import system_actor
from core.cli._common import command_group, engine, print_json
from core.db import session_scope


def register(subparsers) -> None:
    from core.feedback.personas import PERSONAS

    actions = command_group(subparsers, "feedback", help="AI feedback on submissions")
    gen = actions.add_parser("generate", help="generate feedback for a submission whose validators passed")
    gen.add_argument("submission_id", type=int, metavar="SUBMISSION_ID")
    gen.add_argument("--provider", choices=["openai", "rubric"], default=None,
                     help="default: openai when OPENAI_API_KEY is set, else rubric")
    gen.add_argument("--persona", choices=sorted(PERSONAS), default=None, help="default: project_lead")
    gen.add_argument("--model", default=None, help="openai model (default NGI_OPENAI_MODEL)")
    gen.add_argument("--json", action="store_true", help="print the stored row as JSON")
    gen.set_defaults(handler=_generate)
    retry = actions.add_parser("retry", help="generate again for every submission marked for retry")
    retry.add_argument("--provider", choices=["openai", "rubric"], default=None)
    retry.add_argument("--json", action="store_true")
    retry.set_defaults(handler=_retry)


def _report(eng, outcome, as_json: bool) -> dict:
    from core.feedback import summary

    if outcome.ok:
        with session_scope(eng) as session:
            payload = {"ok": True, **summary(session, outcome.feedback_id), "notices": outcome.notices}
    else:
        payload = {"ok": False, "submission_id": outcome.submission_id, "failure_id": outcome.failure_id,
                   "provider": outcome.provider, "model": outcome.model, "error": outcome.error,
                   "feedback_status": "retry", "notices": outcome.notices}
    if not as_json:
        for notice in outcome.notices:
            print(f"note: {notice}")
        if outcome.ok:
            scores = payload["scores"]
            cost = "unknown (no price for this model in the price table)" if payload["cost_usd"] is None \
                else f"${payload['cost_usd']:.6f}"
            print(f"feedback {payload['id']} for submission {payload['submission_id']}: {payload['release_state']}")
            print(f"  provider   {payload['provider']} · model {payload['model']} · persona {payload['persona']}")
            print(f"  tokens     in {payload['tokens_in']} (cached {payload['tokens_cached']}) · out {payload['tokens_out']}")
            print(f"  cost       {cost}")
            print("  scores     " + " · ".join(f"{k} {'-' if v is None else f'{v:g}'}" for k, v in scores.items()))
            for reason in payload["hold_reasons"]:
                print(f"  held       {reason}")
        else:
            print(f"feedback for submission {outcome.submission_id} failed (recorded as failure "
                  f"{outcome.failure_id}; marked for retry): {outcome.error}")
    return payload


def _generate(args) -> int:
    from core.feedback import generate

    eng = engine()
    outcome = generate(eng, submission_id=args.submission_id, provider=args.provider, persona=args.persona,
                       model=args.model, actor=system_actor(eng))
    payload = _report(eng, outcome, args.json)
    if args.json:
        print_json(payload)
    return 0 if outcome.ok else 1


def _retry(args) -> int:
    from core.feedback import moderation

    eng = engine()
    actor = system_actor(eng)
    with session_scope(eng) as session:
        pending = list(moderation.retry_queue(session, actor=actor)["submission_id"])
    results = []
    for submission_id in pending:
        outcome = moderation.retry(eng, actor=actor, submission_id=int(submission_id), provider=args.provider)
        results.append(_report(eng, outcome, args.json))
    if args.json:
        print_json(results)
    elif not pending:
        print("no submissions are waiting for a feedback retry")
    return 0 if all(r["ok"] for r in results) else 1
