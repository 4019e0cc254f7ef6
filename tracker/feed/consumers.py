"""Consumers of the change feed: what reacts to a change, whichever door it came through.

Each consumer keeps its own position per workspace (ConsumerPosition). A pass locks that
row, reads the next changes below the commit-safe horizon, applies its effect and moves the
position, all in one transaction: a crash rolls back effect and position together, and a
second runner waits on the lock and then starts where the first stopped, so every change
is processed once per consumer. After each commit that wrote changes the workspace's
consumers are woken (`consumers_wake`, a task on the `feed` queue); the sweeper runs every
consumer of every workspace once a minute as well, so a lost wake-up (the broker down)
only delays the work.

- webhooks: item.created / updated / deleted, sprint.started / closed, feedback.created /
  addressed become deliveries of the workspace's subscribed webhooks (services.webhooks).
- similarity: items and feedback whose text changed are (re)indexed, deleted ones dropped,
  and new or rewritten feedback gets its suggestions (services.similarity).
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from tracker.feed.read import changes_after, horizon
from tracker.models import (
    BacklogItem,
    Change,
    ChangeKind,
    ChangeOp,
    ConsumerPosition,
    Feedback,
    LoopState,
    Sprint,
    Workspace,
)

logger = logging.getLogger(__name__)

FEED = "feed"


@dataclass(frozen=True)
class Consumer:
    name: str
    kinds: frozenset[str]
    handle: Callable[[Any, Sequence[Change]], None]


# --- Webhooks ------------------------------------------------------------------------------


def _webhook_events(workspace_id: Any, changes: Sequence[Change]) -> None:
    from tracker.models import Webhook
    from tracker.services.backlog.write import DERIVED_FIELDS
    from tracker.services.webhooks import events_record, feedback_data, item_data, sprint_data

    if not Webhook.objects.filter(workspace_id=workspace_id, is_active=True).exists():
        return
    ids = {
        kind: [c.object_id for c in changes if c.kind == kind]
        for kind in (ChangeKind.ITEM, ChangeKind.FEEDBACK, ChangeKind.SPRINT)
    }
    items = {i.pk: i for i in BacklogItem.objects.filter(pk__in=ids[ChangeKind.ITEM]).select_related("project")}
    feedback = {f.pk: f for f in Feedback.objects.filter(pk__in=ids[ChangeKind.FEEDBACK])}
    sprints = {s.pk: s for s in Sprint.objects.filter(pk__in=ids[ChangeKind.SPRINT]).select_related("project")}
    events: list[tuple[str, dict[str, Any]]] = []
    for change in changes:
        if change.kind == ChangeKind.ITEM and change.object_id in items:
            if change.op == ChangeOp.UPDATE and set(change.fields or ()) <= DERIVED_FIELDS:
                continue  # the impact moved (a link): nothing a subscriber of items sees
            name = {ChangeOp.CREATE: "item.created", ChangeOp.DELETE: "item.deleted"}.get(change.op, "item.updated")
            events.append((name, item_data(items[change.object_id])))
        elif change.kind == ChangeKind.FEEDBACK and change.object_id in feedback:
            fb = feedback[change.object_id]
            if change.op == ChangeOp.CREATE:
                events.append(("feedback.created", feedback_data(fb)))
            elif (change.data or {}).get("loop_state") == LoopState.ADDRESSED:
                events.append(("feedback.addressed", feedback_data(fb)))
        elif change.kind == ChangeKind.SPRINT and change.object_id in sprints:
            fields = change.fields or ()
            if "closed_at" in fields:
                events.append(("sprint.closed", sprint_data(sprints[change.object_id])))
            elif "started_at" in fields:
                events.append(("sprint.started", sprint_data(sprints[change.object_id])))
    events_record(workspace_id=workspace_id, events=events)


# --- Similarity ----------------------------------------------------------------------------

ITEM_TEXT_FIELDS = frozenset({"title", "description", "deleted_at"})
FEEDBACK_TEXT_FIELDS = frozenset({"title", "body"})


def _similarity(workspace_id: Any, changes: Sequence[Change]) -> None:
    from tracker.services.similarity import feedback_index, items_index_by_id, suggestions_store

    item_ids = {
        c.object_id
        for c in changes
        if c.kind == ChangeKind.ITEM and (c.op != ChangeOp.UPDATE or ITEM_TEXT_FIELDS & set(c.fields or ()))
    }
    if item_ids:
        items_index_by_id(item_ids)
    wanted = {
        c.object_id
        for c in changes
        if c.kind == ChangeKind.FEEDBACK
        and (c.op == ChangeOp.CREATE or c.op == ChangeOp.UPDATE and FEEDBACK_TEXT_FIELDS & set(c.fields or ()))
    }
    # Deleted feedback took its postings and suggestions with it (foreign keys).
    rows = list(Feedback.objects.filter(pk__in=wanted).only("pk", "workspace_id", "title", "body"))
    if rows:
        feedback_index(rows)
        # The index holds this batch's feedback already, so duplicates within one import
        # find each other.
        suggestions_store(rows)


CONSUMERS: tuple[Consumer, ...] = (
    Consumer("webhooks", frozenset({ChangeKind.ITEM, ChangeKind.FEEDBACK, ChangeKind.SPRINT}), _webhook_events),
    Consumer("similarity", frozenset({ChangeKind.ITEM, ChangeKind.FEEDBACK}), _similarity),
)


def _position(consumer: str, workspace_id: Any) -> ConsumerPosition:
    """The consumer's position row, locked (created at the start of the feed if missing)."""
    found = ConsumerPosition.objects.select_for_update().filter(consumer=consumer, workspace_id=workspace_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            ConsumerPosition.objects.create(consumer=consumer, workspace_id=workspace_id)
    except IntegrityError:
        pass  # another runner made it first; lock theirs
    return ConsumerPosition.objects.select_for_update().get(consumer=consumer, workspace_id=workspace_id)


def consumer_pass(consumer: Consumer, workspace_id: Any, *, limit: int | None = None) -> int:
    """One pass of one consumer over the next changes of a workspace; how many it read."""
    limit = limit or settings.FEED_CONSUMER_BATCH
    below = horizon()
    with transaction.atomic():
        position = _position(consumer.name, workspace_id)
        changes = changes_after(
            Change.objects.filter(workspace_id=workspace_id),
            (position.xid, position.change_id),
            limit=limit,
            below=below,
        )
        if not changes:
            return 0
        mine = [c for c in changes if c.kind in consumer.kinds]
        if mine:
            consumer.handle(workspace_id, mine)
        position.xid, position.change_id = changes[-1].position
        position.save(update_fields=["xid", "change_id", "updated_at"])
    return len(changes)


def consumers_run(workspace_id: Any, *, max_passes: int | None = None) -> bool:
    """Run every consumer of the workspace until it is caught up, or for `max_passes`
    batches each. True when all are caught up. A failing consumer does not stop the others;
    its error is raised after they ran."""
    failure: BaseException | None = None
    caught_up = True
    limit = settings.FEED_CONSUMER_BATCH
    for consumer in CONSUMERS:
        passes = 0
        try:
            while True:
                read = consumer_pass(consumer, workspace_id, limit=limit)
                passes += 1
                if read < limit:
                    break
                if max_passes is not None and passes >= max_passes:
                    caught_up = False
                    break
        except Exception as exc:  # noqa: BLE001 - re-raised below, after the other consumers ran
            logger.exception("feed consumer %s failed for workspace %s", consumer.name, workspace_id)
            failure = failure or exc
    if failure is not None:
        raise failure
    return caught_up


def consumers_wake(workspace_id: Any, *, from_request: bool = True) -> None:
    """Have the workspace's consumers run soon: a task on the feed queue (in-process when
    there is no broker). A broker that is down, or resting after a failed send (a request's
    wake is then not even tried), leaves it to the sweeper."""
    from celery import current_app

    from tracker.services.dispatch import BROKER_ERRORS, _task, broker_failed, broker_ok, broker_resting

    task = _task("tracker.feed_consume_task")
    if current_app.conf.task_always_eager:
        task.apply(args=[str(workspace_id)])
        return
    if from_request and broker_resting():
        return
    try:
        task.apply_async(args=[str(workspace_id)], queue=FEED)
    except BROKER_ERRORS as exc:
        broker_failed()
        logger.warning("Broker unavailable; the feed of %s waits for the sweeper: %s", workspace_id, exc)
    else:
        broker_ok()


def consumers_sweep() -> int:
    """Run the consumers of every workspace whose feed has moved past any of their positions
    (the sweeper's once-a-minute catch-up). Returns how many workspaces had work."""
    busy = 0
    for workspace_id in Workspace.objects.values_list("pk", flat=True):
        last = Change.objects.filter(workspace_id=workspace_id).order_by("-xid", "-id").values_list("xid", "id").first()
        if last is None:
            continue
        positions = {
            p.consumer: (p.xid, p.change_id) for p in ConsumerPosition.objects.filter(workspace_id=workspace_id)
        }
        if all(positions.get(c.name, (0, 0)) >= tuple(last) for c in CONSUMERS):
            continue
        busy += 1
        consumers_wake(workspace_id, from_request=False)
    return busy


def feed_head(workspace_id: Any) -> tuple[int, int]:
    """The workspace's last change that is final now (START when there is none)."""
    below = horizon()
    changes = Change.objects.filter(workspace_id=workspace_id)
    if below is not None:
        changes = changes.filter(xid__lt=below)
    last = changes.order_by("-xid", "-id").values_list("xid", "id").first()
    return (0, 0) if last is None else (last[0], last[1])


def consumer_advance(name: str, workspace_id: Any, position: tuple[int, int]) -> None:
    """Move a consumer past `position` after a rebuild did its work in bulk (the similarity
    index rebuilt from the tables covers every change up to where the rebuild began)."""
    with transaction.atomic():
        row = _position(name, workspace_id)
        if (row.xid, row.change_id) < position:
            row.xid, row.change_id = position
            row.save(update_fields=["xid", "change_id", "updated_at"])
