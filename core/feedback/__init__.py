"""AI feedback with human moderation.

`generate` (core.feedback.generation) writes one learning_feedback row for a submission
whose validators passed (after an upload, the `feedback` background job calls it, see
core.jobs); `on_submission_validated` is a never-raising wrapper for callers that want
feedback inline; core.feedback.moderation holds the
queue, the admin actions and the cost and agreement figures.
"""

from core.feedback.generation import Outcome, generate, on_submission_validated, summary

__all__ = ["Outcome", "generate", "on_submission_validated", "summary"]
