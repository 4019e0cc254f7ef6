"""One feedback at a time: the web forms', the public form's and the API's single writes,
each a batch of one through the write core."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from tracker.models import BacklogItem, Channel, Customer, Feedback, ItemKind, Project, Workspace
from tracker.services.errors import BatchInvalid, ValidationError

from .links import feedback_link
from .rules import EDITABLE_FIELDS
from .write import FeedbackUpdate, feedback_write


def feedback_create(
    *,
    workspace: Workspace,
    actor: AbstractBaseUser | None,
    body: str,
    customer: Customer | None = None,
    customer_email: str = "",
    customer_name: str = "",
    channel: str = Channel.EMAIL,
    received_at: datetime | None = None,
    **fields: Any,
) -> Feedback:
    """Record feedback; its customer is the one given, or found (or created) from the e-mail
    address and name by the one rule of services.customers."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "Unknown or read-only field." for name in unknown})
    entry: dict[str, Any] = {"body": body, "channel": channel, "received_at": received_at, **fields}
    if customer is not None:
        entry["customer"] = customer
    else:
        entry.update(customer_email=customer_email, customer_name=customer_name)
    try:
        ((_, feedback, _),) = feedback_write(workspace=workspace, actor=actor, creates=[(0, entry)])
    except BatchInvalid as exc:
        raise exc.first() from None
    return feedback


def feedback_update(
    *, feedback: Feedback, actor: AbstractBaseUser | None, expected_version: int | None = None, **changes: Any
) -> Feedback:
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "Unknown or read-only field." for name in unknown})
    try:
        ((_, written, _),) = feedback_write(
            workspace=feedback.workspace,
            actor=actor,
            updates=[FeedbackUpdate(0, feedback.pk, changes, expected_version)],
        )
    except BatchInvalid as exc:
        raise exc.first() from None
    return written


@transaction.atomic
def feedback_create_item(
    *,
    feedback: Feedback,
    project: Project,
    actor: AbstractBaseUser | None,
    title: str = "",
    kind: str = ItemKind.STORY,
    quote: str = "",
    **fields: Any,
) -> BacklogItem:
    """Turn feedback into a new backlog item, linked with the quote."""
    from tracker.services.backlog import item_create

    if project.workspace_id != feedback.workspace_id:
        raise ValidationError({"project": "The project belongs to another workspace."})
    title = title or feedback.title or feedback.body[:120]
    description = fields.pop("description", "") or f"> {feedback.body}\n"
    item = item_create(project=project, actor=actor, title=title, kind=kind, description=description, **fields)
    feedback_link(feedback=feedback, item=item, actor=actor, quote=quote)
    return item
