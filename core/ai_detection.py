"""AI-detection through GPTZero (`POST /v2/predict/text`).

The score is one signal among others for an instructor, never proof: the review page
says so next to it. Without GPTZERO_API_KEY nothing is sent and the status is
`not_run`; a rate limit or timeout also leaves `not_run`, with the reason in the details.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from core import config
from core.db import utcnow
from core.statuses import CLEAN, FLAGGED, NOT_RUN

MAX_CHARS = 50_000  # GPTZero's per-document limit is about this size
TIMEOUT_SECONDS = 30.0


@dataclass
class Detection:
    status: str  # core.statuses.AI_DETECTION
    score: float | None = None  # 0-100
    details: dict[str, Any] = field(default_factory=dict)
    run_at: datetime | None = None


def threshold() -> float:
    return config.env_float("NGI_AI_FLAG_THRESHOLD")


def detect_text(text: str, *, api_key: str | None = None, base_url: str | None = None,
                timeout: float = TIMEOUT_SECONDS, retries: int = 1) -> Detection:
    api_key = api_key if api_key is not None else config.env("GPTZERO_API_KEY")
    if not api_key:
        return Detection(NOT_RUN, details={"reason": "GPTZERO_API_KEY is not set"})
    text = (text or "").strip()
    if len(text) < 50:
        return Detection(NOT_RUN, details={"reason": "too little text to analyse"})
    url = (base_url or config.env("NGI_GPTZERO_BASE_URL") or "").rstrip("/") + "/v2/predict/text"
    body = {"document": text[:MAX_CHARS]}
    headers = {"x-api-key": api_key, "Accept": "application/json"}
    for attempt in range(retries + 1):
        try:
            response = httpx.post(url, json=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            return Detection(NOT_RUN, details={"reason": f"GPTZero did not answer within {timeout:g} s",
                                                 "retryable": True})
        except httpx.HTTPError as exc:
            return Detection(NOT_RUN, details={"reason": f"GPTZero could not be reached ({exc})", "retryable": True})
        if response.status_code == 429:
            wait = _retry_after(response)
            if attempt < retries and wait <= 5:
                time.sleep(wait)
                continue
            return Detection(NOT_RUN, details={"reason": "GPTZero rate limit reached (HTTP 429)",
                                                 "retry_after_seconds": wait, "retryable": True})
        if response.status_code >= 400:
            return Detection(NOT_RUN, details={"reason": f"GPTZero answered HTTP {response.status_code}",
                                                 "retryable": response.status_code >= 500})
        return _parse(response)
    raise AssertionError("unreachable")


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


def _parse(response: httpx.Response) -> Detection:
    try:
        payload = response.json()
        document = payload["documents"][0]
        probability = float(document["completely_generated_prob"])
    except (ValueError, KeyError, IndexError, TypeError):
        return Detection(NOT_RUN, details={"reason": "GPTZero's answer did not have the expected shape"})
    score = round(100 * probability, 2)
    limit = threshold()
    details = {
        "model_version": payload.get("version"),
        "scan_id": payload.get("scanId"),
        "completely_generated_prob": probability,
        "average_generated_prob": document.get("average_generated_prob"),
        "predicted_class": document.get("predicted_class"),
        "confidence_category": document.get("confidence_category"),
        "threshold": limit,
    }
    return Detection(FLAGGED if score > limit else CLEAN, score=score,
                     details={k: v for k, v in details.items() if v is not None}, run_at=utcnow())


def apply(submission, detection: Detection) -> None:
    """Mirror a detection onto a LearningSubmission row (caller's transaction)."""
    submission.ai_detection_status = detection.status
    submission.ai_detection_score = None if detection.score is None else Decimal(str(detection.score))
    submission.ai_detection_details = detection.details
    submission.ai_detection_run_at = detection.run_at
