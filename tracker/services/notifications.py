"""Closing the loop: one digest e-mail per customer per sprint, listing what shipped for them.

After a sprint closes, `sprint_notify_customers` (run by `sprint_notify_task`) finds every
customer with an e-mail address whose feedback the sprint addressed, renders the project's
digest template and sends it once.

Exactly-once, by claiming before sending. The claim is one transaction: it locks the
addressed feedback, creates the customer's CustomerNotification for the sprint (unique per
customer and sprint), stamps its `sent_at` and the feedback's `notified_at` (loop state
closed). Only after that commits does the e-mail go out. A retried task, a repeated
message or a sprint closed, reopened and closed again finds the feedback notified and the
digest claimed, and sends nothing. If sending raises, the claim is undone and the error
re-raised, so the retry sends it. The one window left open is a worker dying after the
claim committed and before the mail server took the message: that digest is then not
sent. We chose at most once over at least once there, because a customer getting the same
"we fixed it" e-mail twice costs more trust than a rare missing one, and the notification
row (sent_at set, no error) shows what was intended.

A customer who already got this sprint's digest and has more feedback addressed by a later
close of the same sprint is not e-mailed again (one digest per sprint); that feedback stays
addressed and appears in the next sprint's digest if more of their asks ship, or can be
told by hand.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template import Context, Engine, TemplateSyntaxError
from django.template.defaulttags import DebugNode
from django.template.loader_tags import ExtendsNode, IncludeNode
from django.utils import timezone

from tracker.models import (
    BacklogItem,
    CustomerNotification,
    Feedback,
    FeedbackLink,
    HistoryAction,
    ItemStatus,
    LoopState,
    Sprint,
    SprintState,
)
from tracker.services.errors import ValidationError
from tracker.services.feedback import feedback_mark_notified, loop_state_for
from tracker.services.history import history_entries, history_record_many

logger = logging.getLogger(__name__)

DEFAULT_SUBJECT = "What we shipped for you in {{ sprint.name }}"
DEFAULT_BODY = """Hello {{ customer.name }},

you told us what you needed, and in {{ sprint.name }} the {{ project.name }} team finished it.
{% for item in items %}
* {{ item.title }} ({{ item.key }}){% for quote in item.quotes %}
  You asked: "{{ quote }}"{% endfor %}
{% endfor %}
Thank you for taking the time to tell us. Reply to this e-mail if anything is still not right.

The {{ project.name }} team at {{ workspace.name }}
"""
QUOTE_LENGTH = 300

# Templates are written by project admins: an engine with no template loaders (no
# {% include %} or {% extends %} of files), no tag libraries beyond the built-ins, no
# {% debug %}, autoescape off (the e-mail is plain text), rendered against plain dicts and
# strings only, so no model method can be reached from a template.
_engine = Engine(dirs=[], app_dirs=False, loaders=[], libraries={}, autoescape=False, string_if_invalid="")


def _compile(source: str) -> Any:
    template = _engine.from_string(source)
    for node_type, tag in ((DebugNode, "debug"), (IncludeNode, "include"), (ExtendsNode, "extends")):
        if template.nodelist.get_nodes_by_type(node_type):
            raise TemplateSyntaxError(f"The {tag} tag is not allowed in digest templates.")
    return template


def digest_template_check(*, subject: str, body: str) -> None:
    """Raise ValidationError when a project's digest subject or body template does not compile."""
    errors = {}
    for name, source in (("digest_subject", subject), ("digest_template", body)):
        try:
            _compile(source or "")
        except TemplateSyntaxError as exc:
            errors[name] = f"The template has an error: {exc}"
    if errors:
        raise ValidationError(errors)


def render_digest(source: str, fallback: str, context: dict[str, Any]) -> str:
    try:
        template = _compile(source or fallback)
    except TemplateSyntaxError as exc:
        logger.warning("Digest template does not compile (%s); using the default", exc)
        template = _compile(fallback)
    return template.render(Context(context, autoescape=False)).strip()


@dataclass
class Digest:
    customer_id: Any
    name: str
    email: str
    feedback_ids: list[Any] = field(default_factory=list)
    items: dict[Any, dict[str, Any]] = field(default_factory=dict)
    subject: str = ""
    body: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer": str(self.customer_id),
            "name": self.name,
            "to": self.email,
            "subject": self.subject,
            "body": self.body,
            "feedback": [str(pk) for pk in self.feedback_ids],
            "items": [{k: v for k, v in i.items() if k != "quotes"} for i in self.items.values()],
        }


def _quote(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= QUOTE_LENGTH else text[: QUOTE_LENGTH - 1].rstrip() + "…"


def digests_plan(sprint: Sprint, *, predict: bool) -> list[Digest]:
    """The digests this sprint sends: customers with an e-mail, not yet told, whose feedback
    is addressed by items done in this sprint. `predict` computes "addressed" from the links
    as a close would (for the preview); otherwise the stored loop state is used. Three queries.
    """
    project = sprint.project
    done_ids = list(
        BacklogItem.objects.filter(sprint=sprint, status=ItemStatus.DONE, deleted_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if not done_ids:
        return []
    links = list(
        FeedbackLink.objects.filter(
            item_id__in=done_ids, feedback__notified_at__isnull=True, feedback__customer__isnull=False
        )
        .exclude(feedback__customer__email="")
        .values(
            "feedback_id",
            "quote",
            "item_id",
            "item__number",
            "item__title",
            "feedback__body",
            "feedback__loop_state",
            "feedback__customer_id",
            "feedback__customer__name",
            "feedback__customer__email",
        )
        .order_by("item__rank", "created_at")
    )
    addressed: set[Any]
    if predict:
        states: dict[Any, list[tuple[str, str | None]]] = defaultdict(list)
        for fid, status, sprint_state, item_sprint in FeedbackLink.objects.filter(
            feedback_id__in={link["feedback_id"] for link in links}, item__deleted_at__isnull=True
        ).values_list("feedback_id", "item__status", "item__sprint__state", "item__sprint_id"):
            states[fid].append((status, sprint_state if item_sprint != sprint.pk else SprintState.CLOSED))
        addressed = {fid for fid, s in states.items() if loop_state_for(notified=False, item_states=s) == "addressed"}
    else:
        addressed = {link["feedback_id"] for link in links if link["feedback__loop_state"] == LoopState.ADDRESSED}
    told = set(
        CustomerNotification.objects.filter(sprint=sprint, sent_at__isnull=False).values_list("customer_id", flat=True)
    )
    digests: dict[Any, Digest] = {}
    for link in links:
        fid = link["feedback_id"]
        cid = link["feedback__customer_id"]
        if fid not in addressed or cid in told:
            continue
        digest = digests.setdefault(
            cid, Digest(cid, link["feedback__customer__name"], link["feedback__customer__email"])
        )
        if fid not in digest.feedback_ids:
            digest.feedback_ids.append(fid)
        item = digest.items.setdefault(
            link["item_id"],
            {"key": f"{project.key}-{link['item__number']}", "title": link["item__title"], "quotes": []},
        )
        quote = _quote(link["quote"] or link["feedback__body"])
        if quote and quote not in item["quotes"]:
            item["quotes"].append(quote)
    for digest in digests.values():
        context = {
            "customer": {"name": digest.name, "email": digest.email},
            "sprint": {"name": sprint.name, "goal": sprint.goal, "number": sprint.number, "end_date": sprint.end_date},
            "project": {"name": project.name, "key": project.key},
            "workspace": {"name": project.workspace.name},
            "items": list(digest.items.values()),
            "site_url": settings.SITE_URL,
        }
        digest.subject = " ".join(render_digest(project.digest_subject, DEFAULT_SUBJECT, context).split())[:200]
        digest.body = render_digest(project.digest_template, DEFAULT_BODY, context)
    return sorted(digests.values(), key=lambda d: d.name.lower())


def notification_preview(sprint: Sprint) -> dict[str, Any]:
    """What closing this sprint would send, for the close dialog: whether the project sends
    digests at all, and each recipient with the rendered subject and body."""
    sprint = Sprint.objects.select_related("project__workspace").get(pk=sprint.pk)
    enabled = sprint.project.notify_customers
    digests = digests_plan(sprint, predict=sprint.state != SprintState.CLOSED) if enabled else []
    return {"enabled": enabled, "recipients": len(digests), "digests": [d.as_dict() for d in digests]}


def digest_sample(*, project: Any, subject: str, body: str) -> dict[str, str]:
    """The digest a project's templates would render for a made-up customer and sprint, for
    the settings page's preview. Raises ValidationError when a template does not compile."""
    digest_template_check(subject=subject, body=body)
    context = {
        "customer": {"name": "Ada Example", "email": "ada@example.com"},
        "sprint": {"name": "Sprint 12", "goal": "Faster checkout", "number": 12, "end_date": timezone.localdate()},
        "project": {"name": project.name, "key": project.key},
        "workspace": {"name": project.workspace.name},
        "items": [
            {
                "key": f"{project.key}-42",
                "title": "Remember the card at checkout",
                "quotes": ["Typing my card every time is a pain."],
            },
            {"key": f"{project.key}-43", "title": "Faster search", "quotes": ["Search takes forever."]},
        ],
        "site_url": settings.SITE_URL,
    }
    return {
        "subject": " ".join(render_digest(subject, DEFAULT_SUBJECT, context).split())[:200],
        "body": render_digest(body, DEFAULT_BODY, context),
    }


def _claim(sprint: Sprint, digest: Digest, now: Any) -> CustomerNotification | None:
    notification, created = CustomerNotification.objects.get_or_create(
        customer_id=digest.customer_id,
        sprint=sprint,
        defaults={
            "workspace_id": sprint.project.workspace_id,
            "to_email": digest.email,
            "subject": digest.subject,
            "body": digest.body,
        },
    )
    if not created:
        if notification.sent_at is not None:
            return None
        notification.to_email, notification.subject, notification.body = digest.email, digest.subject, digest.body
        notification.version += 1
    notification.sent_at = now
    notification.save()
    notification.feedback.add(*digest.feedback_ids)
    feedback_mark_notified(feedback_ids=digest.feedback_ids, at=now)
    return notification


def _unclaim(notification: CustomerNotification, feedback_ids: list[Any]) -> None:
    with transaction.atomic():
        CustomerNotification.objects.filter(pk=notification.pk).update(sent_at=None)
        told_then = Feedback.objects.filter(pk__in=feedback_ids, notified_at=notification.sent_at)
        feedback_mark_notified(feedback_ids=list(told_then.values_list("pk", flat=True)), at=None)


def sprint_notify_customers(*, sprint_id: Any) -> int:
    """Send the sprint's digests that were not sent yet; returns how many went out.

    Call it outside a transaction: it commits its claim before any e-mail leaves.
    """
    sprint = Sprint.objects.select_related("project__workspace").filter(pk=sprint_id).first()
    if sprint is None or sprint.state != SprintState.CLOSED or not sprint.project.notify_customers:
        return 0
    now = timezone.now()
    claimed: list[tuple[CustomerNotification, list[Any]]] = []
    with transaction.atomic():
        candidates = [fid for d in digests_plan(sprint, predict=False) for fid in d.feedback_ids]
        # Lock the feedback, then plan again: a concurrent run that got here first has
        # stamped notified_at, and the second plan leaves those feedback out.
        list(Feedback.objects.select_for_update().filter(pk__in=candidates).values_list("pk", flat=True))
        entries = []
        for digest in digests_plan(sprint, predict=False):
            notification = _claim(sprint, digest, now)
            if notification is None:
                continue
            claimed.append((notification, digest.feedback_ids))
            for fid in digest.feedback_ids:
                entries += history_entries(
                    workspace_id=sprint.project.workspace_id,
                    feedback_id=fid,
                    actor=None,
                    action=HistoryAction.CHANGED,
                    changes={"loop_state": (LoopState.ADDRESSED, LoopState.CLOSED)},
                    at=now,
                )
        history_record_many(entries)
    sent = 0
    for notification, _ids in claimed:
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.to_email],
        )
        try:
            message.send()
        except Exception:
            # Not swallowed: undo this claim (and the ones not yet sent) so a retry sends them.
            for pending, ids in claimed[sent:]:
                _unclaim(pending, ids)
            raise
        sent += 1
    return sent
