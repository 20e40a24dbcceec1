"""Feedback providers behind one interface: `complete(prompt) -> Reply`.

- `OpenAIProvider`: the official client, any OpenAI-compatible endpoint (OPENAI_BASE_URL),
  structured output through a JSON schema, 429/5xx retried with backoff and jitter.
- `RubricProvider`: the offline, deterministic coach (core.feedback.rubric).

A reply that does not match the schema raises `InvalidReply` (carrying the raw text and
the tokens it cost); a call that could not be completed raises `ProviderFailed`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from core import config
from core.feedback.prompt import SCHEMA_NAME, Prompt

CRITERIA = ("accuracy", "documentation", "presentation", "reasoning")
LISTS = ("strengths", "areas_for_improvement", "specific_suggestions")
DEFAULT_TIMEOUT_S = 60.0

FEEDBACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["feedback_text", *LISTS, "scores"],
    "properties": {
        "feedback_text": {"type": "string"},
        **{name: {"type": "array", "items": {"type": "string"}} for name in LISTS},
        "scores": {
            "type": "object",
            "additionalProperties": False,
            "required": list(CRITERIA),
            "properties": {name: {"type": "number"} for name in CRITERIA},
        },
    },
}


@dataclass
class Reply:
    data: dict[str, Any]
    raw: str
    model: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    tokens_cached: int | None = None


class InvalidReply(Exception):
    """The provider answered, but not with what the schema demands."""

    def __init__(self, reason: str, *, raw: str | None, model: str | None = None,
                 tokens_in: int | None = None, tokens_out: int | None = None, tokens_cached: int | None = None):
        super().__init__(reason)
        self.reason, self.raw, self.model = reason, raw, model
        self.tokens_in, self.tokens_out, self.tokens_cached = tokens_in, tokens_out, tokens_cached


class ProviderFailed(Exception):
    """No usable answer: timeout, refused request, or retries exhausted."""

    def __init__(self, reason: str, *, raw: str | None = None):
        super().__init__(reason)
        self.reason, self.raw = reason, raw


class Provider(Protocol):
    name: str
    model: str

    def complete(self, prompt: Prompt) -> Reply: ...


def parse_reply(raw: str | None) -> dict[str, Any]:
    """The reply as a dict, or InvalidReply naming the first field that is wrong.

    Scores outside 0-100 are kept (the row is held for a moderator); only values the
    NUMERIC(5,2) columns cannot hold are rejected here.
    """
    if not raw or not raw.strip():
        raise InvalidReply("the reply was empty", raw=raw)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidReply(f"the reply is not JSON ({exc.msg} at character {exc.pos})", raw=raw) from None
    if not isinstance(data, dict):
        raise InvalidReply("the reply is not a JSON object", raw=raw)
    missing = [k for k in FEEDBACK_SCHEMA["required"] if k not in data]
    if missing:
        raise InvalidReply(f"the reply lacks {', '.join(missing)}", raw=raw)
    if not isinstance(data["feedback_text"], str) or not data["feedback_text"].strip():
        raise InvalidReply("feedback_text must be a non-empty string", raw=raw)
    for name in LISTS:
        items = data[name]
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise InvalidReply(f"{name} must be a list of strings", raw=raw)
    scores = data["scores"]
    if not isinstance(scores, dict):
        raise InvalidReply("scores must be an object", raw=raw)
    clean_scores = {}
    for name in CRITERIA:
        value = scores.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidReply(f"scores.{name} must be a number", raw=raw)
        if not -999 <= value <= 999:
            raise InvalidReply(f"scores.{name} is {value}, which cannot be stored", raw=raw)
        clean_scores[name] = float(value)
    return {
        "feedback_text": data["feedback_text"].strip(),
        **{name: [i.strip() for i in data[name] if i.strip()] for name in LISTS},
        "scores": clean_scores,
    }


class OpenAIProvider:
    name = "openai"

    def __init__(self, *, model: str | None = None, api_key: str | None = None, base_url: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT_S, max_attempts: int = 4, backoff_s: float = 1.0,
                 max_backoff_s: float = 20.0, sleep: Callable[[float], None] = time.sleep):
        self.model = model or config.env("NGI_OPENAI_MODEL") or "gpt-4o-mini"
        self.api_key = api_key or config.env("OPENAI_API_KEY")
        self.base_url = base_url or config.env("OPENAI_BASE_URL")
        self.timeout, self.max_attempts = timeout, max(1, max_attempts)
        self.backoff_s, self.max_backoff_s, self._sleep = backoff_s, max_backoff_s, sleep

    def _client(self):
        from openai import OpenAI

        if not self.api_key:
            raise ProviderFailed("OPENAI_API_KEY is not set, so the openai provider cannot run.")
        # Retries are ours (below), so the schedule and what counts as retryable are explicit.
        return OpenAI(api_key=self.api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0)

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        try:
            hinted = float(retry_after) if retry_after is not None else None
        except ValueError:
            hinted = None
        if hinted is not None and 0 <= hinted <= self.max_backoff_s:
            return hinted
        ceiling = min(self.max_backoff_s, self.backoff_s * (2 ** attempt))
        return random.uniform(ceiling / 2, ceiling)  # "equal jitter": spread out, never zero

    def complete(self, prompt: Prompt) -> Reply:
        import openai

        client = self._client()
        last_error = "no attempt was made"
        try:
            for attempt in range(self.max_attempts):
                try:
                    response = client.chat.completions.create(
                        model=self.model,
                        messages=prompt.messages(),
                        response_format={
                            "type": "json_schema",
                            "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": FEEDBACK_SCHEMA},
                        },
                        temperature=0.3,
                    )
                    break
                except openai.APITimeoutError:
                    raise ProviderFailed(f"The OpenAI request timed out after {self.timeout:g} seconds.") from None
                except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                    status = getattr(exc, "status_code", None)
                    last_error = f"HTTP {status}" if status else f"connection error ({exc})"
                    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
                    if attempt + 1 < self.max_attempts:
                        self._sleep(self._delay(attempt, headers.get("retry-after")))
                except openai.APIStatusError as exc:
                    body = getattr(exc.response, "text", None)
                    raise ProviderFailed(f"OpenAI refused the request with HTTP {exc.status_code}: {exc.message}",
                                         raw=body) from None
            else:
                raise ProviderFailed(f"OpenAI did not answer after {self.max_attempts} attempts; last error: {last_error}.")
        finally:
            client.close()

        usage = response.usage
        details = getattr(usage, "prompt_tokens_details", None) if usage is not None else None
        tokens = dict(
            tokens_in=getattr(usage, "prompt_tokens", None),
            tokens_out=getattr(usage, "completion_tokens", None),
            tokens_cached=(getattr(details, "cached_tokens", None) or 0) if usage is not None else None,
        )
        model = response.model or self.model
        message = response.choices[0].message if response.choices else None
        if message is not None and getattr(message, "refusal", None):
            raise InvalidReply(f"the model refused: {message.refusal}", raw=message.refusal, model=model, **tokens)
        raw = message.content if message is not None else None
        try:
            data = parse_reply(raw)
        except InvalidReply as exc:
            raise InvalidReply(exc.reason, raw=raw, model=model, **tokens) from None
        return Reply(data=data, raw=raw or "", model=model, **tokens)


class RubricProvider:
    """Deterministic and offline: the same submission always gets the same feedback."""

    name = "rubric"
    model = "rubric-coach-v1"

    def __init__(self, persona=None):
        self._persona = persona

    def complete(self, prompt: Prompt) -> Reply:
        from core.feedback import personas, rubric

        persona = self._persona or personas.get(prompt.persona)
        data = rubric.write(prompt.context, persona)
        raw = json.dumps(data, ensure_ascii=False)
        return Reply(data=parse_reply(raw), raw=raw, model=self.model, tokens_in=0, tokens_out=0, tokens_cached=0)


def openai_configured() -> bool:
    return bool(config.env("OPENAI_API_KEY"))


def by_name(name: str | None, *, model: str | None = None) -> Provider:
    """'openai', 'rubric', or None for the default (openai when a key is set)."""
    if name is None:
        name = "openai" if openai_configured() else "rubric"
    if name == "openai":
        if not openai_configured():
            from core.errors import Invalid

            raise Invalid("The openai provider needs OPENAI_API_KEY; set it or choose the rubric provider.")
        return OpenAIProvider(model=model)
    if name == "rubric":
        return RubricProvider()
    from core.errors import Invalid

    raise Invalid(f"Unknown feedback provider {name!r}; use openai or rubric.")
