"""Comments on backlog items."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from tracker.models import BacklogItem, Comment, HistoryAction
from tracker.services.errors import ValidationError
from tracker.services.history import history_record

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
    comment = Comment.objects.create(item=item, author=actor, body=body)
    history_record(
        workspace_id=item.project.workspace_id,
        project_id=item.project_id,
        item=item,
        actor=actor,
        action=HistoryAction.COMMENTED,
        changes={"comment": (None, str(comment.pk))},
    )
    return comment
