from typing import Any

from celery import shared_task

from tracker.services.dispatch import run_claimed
from tracker.services.similarity import items_index_by_id, suggestions_refresh, workspace_reindex
from tracker.tasks.base import LoopwiseTask


@shared_task(base=LoopwiseTask, name="tracker.feedback_suggest_task")
def feedback_suggest_task(feedback_id: str, record_id: int | None = None) -> int:
    """Index new feedback and store its suggestions."""
    found = run_claimed(record_id, lambda: suggestions_refresh(feedback_id))
    return len(found or [])


@shared_task(base=LoopwiseTask, name="tracker.item_index_task")
def item_index_task(item_id: str, record_id: int | None = None) -> None:
    run_claimed(record_id, lambda: items_index_by_id([item_id]))


@shared_task(base=LoopwiseTask, name="tracker.similarity_reindex_task")
def similarity_reindex_task(workspace_id: str, record_id: int | None = None) -> Any:
    return run_claimed(record_id, lambda: workspace_reindex(workspace_id=workspace_id))
