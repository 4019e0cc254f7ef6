"""Feedback: the write core (write.py), links (links.py), triage (triage.py), the rules of
its fields (rules.py) and the single-entry doors' calls (single.py)."""

from .links import MAX_QUOTE, feedback_link, feedback_unlink, links_save, links_write
from .rules import CHANNELS, EDITABLE_FIELDS, SCORE_RANGES, validate_feedback_fields
from .single import feedback_create, feedback_create_item, feedback_update
from .triage import feedback_accept, feedback_dismiss, feedback_mark_duplicate, feedback_reopen
from .write import (
    NAMED_CUSTOMER_FIELDS,
    FeedbackUpdate,
    feedback_delete,
    feedback_mark_notified,
    feedback_refresh_for_items,
    feedback_refresh_loop_state,
    feedback_save,
    feedback_write,
    lock_feedback,
    loop_state_for,
)

__all__ = [
    "CHANNELS",
    "EDITABLE_FIELDS",
    "MAX_QUOTE",
    "NAMED_CUSTOMER_FIELDS",
    "SCORE_RANGES",
    "FeedbackUpdate",
    "feedback_accept",
    "feedback_create",
    "feedback_create_item",
    "feedback_delete",
    "feedback_dismiss",
    "feedback_link",
    "feedback_mark_duplicate",
    "feedback_mark_notified",
    "feedback_refresh_for_items",
    "feedback_refresh_loop_state",
    "feedback_reopen",
    "feedback_save",
    "feedback_unlink",
    "feedback_update",
    "feedback_write",
    "links_save",
    "links_write",
    "lock_feedback",
    "loop_state_for",
    "validate_feedback_fields",
]
