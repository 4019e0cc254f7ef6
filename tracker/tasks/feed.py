from celery import current_app, shared_task
from django.conf import settings

from tracker.feed.consumers import consumers_run, consumers_wake
from tracker.feed.prune import feed_prune
from tracker.tasks.base import LoopwiseTask


@shared_task(base=LoopwiseTask, name="tracker.feed_consume_task")
def feed_consume_task(workspace_id: str) -> bool:
    """Run the workspace's feed consumers. A long backlog of changes (a large import) is
    taken in slices: after FEED_TASK_MAX_PASSES batches the task queues itself again, so
    the other workspaces' consumers get their turn in between. Safe to run twice: each
    consumer claims its position row."""
    eager = bool(current_app.conf.task_always_eager)
    caught_up = consumers_run(workspace_id, max_passes=None if eager else settings.FEED_TASK_MAX_PASSES)
    if not caught_up:
        consumers_wake(workspace_id, from_request=False)
    return caught_up


@shared_task(base=LoopwiseTask, name="tracker.feed_prune_task")
def feed_prune_task() -> int:
    return feed_prune()
