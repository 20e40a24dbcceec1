"""AI feedback with human moderation.

`generate` (core.feedback.generation) writes one learning_feedback row for a submission
whose validators passed; `on_submission_validated` is the never-raising hook the
submissions service calls after a passing submit; core.feedback.moderation holds the
queue, the admin actions and the cost and agreement figures.
"""

from core.feedback.generation import Outcome, generate, on_submission_validated, summary

__all__ = ["Outcome", "generate", "on_submission_validated", "summary"]
