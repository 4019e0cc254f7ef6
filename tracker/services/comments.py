"""The write core of comments on backlog items (History and the change feed with them)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from tracker.feed.record import ChangeRow, changes_record
from tracker.models import BacklogItem, ChangeKind, ChangeOp, Comment, History, HistoryAction
from tracker.services.bulk import rows_insert
from tracker.services.errors import ValidationError
from tracker.services.history import history_entries

MAX_COMMENT = 10000


@transaction.atomic
def comment_create(*, item: BacklogItem, actor: AbstractBaseUser, body: str) -> Comment:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write something first."})
    if len(body) > MAX_COMMENT:
        raise ValidationError({"body": "Keep comments under 10,000 characters."})
    if item.deleted_at is not None:
        raise ValidationError({"item": "The item was deleted."})
    comment = Comment(item=item, author=actor, body=body, created_at=timezone.now(), updated_at=timezone.now())
    comments_save(workspace_id=item.project.workspace_id, created=[(comment, item.project_id)])
    return comment


def comments_save(*, workspace_id: Any, created: Sequence[tuple[Comment, Any]], at: datetime | None = None) -> None:
    """Write new comments (each with its item's project id) with History and the change feed."""
    at = at or timezone.now()
    rows_insert(Comment, [c for c, _ in created])
    entries = []
    for comment, project_id in created:
        entries += history_entries(
            workspace_id=workspace_id,
            project_id=project_id,
            item_id=comment.item_id,
            actor=comment.author,
            action=HistoryAction.COMMENTED,
            changes={"comment": (None, str(comment.pk))},
            at=min(comment.created_at or at, at),
        )
    rows_insert(History, entries)
    changes_record(
        workspace_id=workspace_id,
        rows=[ChangeRow(ChangeKind.COMMENT, c.pk, ChangeOp.CREATE, project_id, c.version) for c, project_id in created],
        at=at,
    )
