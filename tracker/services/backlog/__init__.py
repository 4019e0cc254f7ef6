"""Backlog items: the write core (write.py), the rules of their fields (rules.py), rank
(ranking.py) and the single-item doors' calls (single.py)."""

from .impact import items_refresh_impact
from .ranking import item_move, items_arrange, items_rerank_by
from .rules import EDITABLE_FIELDS, WRITABLE_FIELDS, clean_estimate, clean_labels, validate_item_fields
from .single import item_create, item_delete, item_update
from .write import (
    RANK_GAP,
    Position,
    Update,
    Written,
    item_diff,
    items_delete,
    items_save,
    items_write,
    lock_items,
    lock_project,
)

__all__ = [
    "EDITABLE_FIELDS",
    "RANK_GAP",
    "WRITABLE_FIELDS",
    "Position",
    "Update",
    "Written",
    "clean_estimate",
    "clean_labels",
    "item_create",
    "item_delete",
    "item_diff",
    "item_move",
    "item_update",
    "items_arrange",
    "items_delete",
    "items_refresh_impact",
    "items_rerank_by",
    "items_save",
    "items_write",
    "lock_items",
    "lock_project",
    "validate_item_fields",
]
