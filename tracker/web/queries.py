"""Read helpers for pages that need more than one QuerySet call; each runs a fixed number
of queries however many rows it covers."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from tracker.models import (
    FINISHED_STATUSES,
    BacklogItem,
    Customer,
    Feedback,
    FeedbackLink,
    ItemKind,
    ItemStatus,
    Project,
    TriageState,
    Workspace,
)
from tracker.models.feedback import DETRACTOR

OPEN = "open"  # the backlog's default status filter: everything not finished
SCORE_BANDS = {
    "detractor": DETRACTOR,
    "passive": Q(nps__in=[7, 8]) | Q(csat=3),
    "promoter": Q(nps__gte=9) | Q(csat__gte=4),
    "unscored": Q(nps__isnull=True, csat__isnull=True, ces__isnull=True),
}


BACKLOG_ROW_FIELDS = (
    "id", "project_id", "number", "kind", "title", "status", "priority", "estimate", "rank", "version",
    "impact_score", "feedback_count", "customer_count", "customer_segments", "deleted_at",
    "epic__id", "epic__title", "sprint__id", "sprint__name", "sprint__number",
)  # fmt: skip


def backlog_items(project: Project, params: Mapping[str, str]) -> QuerySet[BacklogItem]:
    """The project's backlog filtered by the page's query parameters, ranked or by impact."""
    # The rows show neither descriptions nor the epic's and sprint's other fields.
    items = (
        BacklogItem.objects.in_project(project)
        .select_related("epic", "sprint")
        .only(*BACKLOG_ROW_FIELDS)
        .prefetch_related("labels")
    )
    status = params.get("status", OPEN)
    if status == OPEN:
        items = items.exclude(status__in=FINISHED_STATUSES)
    elif status in ItemStatus.values:
        items = items.filter(status=status)
    kind = params.get("kind", "")
    if kind in ItemKind.values:
        items = items.filter(kind=kind)
    elif kind != "all" and not params.get("epic"):
        items = items.exclude(kind=ItemKind.EPIC)  # epics have their own filter; "all" shows them inline
    if params.get("label"):
        items = items.filter(labels__name=params["label"])
    if params.get("epic"):
        items = items.filter(epic__number=_int(params["epic"]))
    if params.get("segment"):
        items = items.filter(
            Exists(FeedbackLink.objects.filter(item=OuterRef("pk"), feedback__customer__segment=params["segment"]))
        )
    if params.get("has_feedback") == "yes":
        items = items.filter(feedback_count__gt=0)
    elif params.get("has_feedback") == "no":
        items = items.filter(feedback_count=0)
    if params.get("q"):
        items = items.filter(title__icontains=params["q"])
    if params.get("sort") == "impact":
        return items.order_by("-impact_score", "rank")
    return items.order_by("rank")


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def neighbour(items: QuerySet[BacklogItem], item: BacklogItem, direction: str) -> BacklogItem | None:
    """The item just above (`up`) or below (`down`) in rank order among `items`."""
    if direction == "up":
        return items.filter(rank__lt=item.rank).order_by("-rank").first()
    return items.filter(rank__gt=item.rank).order_by("rank").first()


def item_search(projects: QuerySet[Project], text: str, *, limit: int = 8) -> list[BacklogItem]:
    """Live items of these projects whose key or title matches `text`."""
    text = (text or "").strip()
    if not text:
        return []
    match = Q(title__icontains=text)
    if "-" in text:
        key, _, number = text.upper().partition("-")
        if number.isdigit():
            match |= Q(project__key=key, number=int(number))
    elif text.isdigit():
        match |= Q(number=int(text))
    return list(
        BacklogItem.objects.filter(match, project__in=projects, deleted_at__isnull=True)
        .select_related("project")
        .order_by("status", "-impact_score")[:limit]
    )


def inbox_feedback(workspace: Workspace, params: Mapping[str, str]) -> QuerySet[Feedback]:
    """The workspace's feedback, newest first, filtered by the inbox's query parameters."""
    feedback = Feedback.objects.in_workspace(workspace).select_related("customer")
    triage = params.get("triage", TriageState.NEW)
    if triage in TriageState.values:
        feedback = feedback.filter(triage=triage)
    for name, field in (("channel", "channel"), ("loop", "loop_state")):
        if params.get(name):
            feedback = feedback.filter(**{field: params[name]})
    if params.get("segment"):
        feedback = feedback.filter(customer__segment=params["segment"])
    if params.get("tier"):
        feedback = feedback.filter(customer__tier=params["tier"])
    band = SCORE_BANDS.get(params.get("score", ""))
    if band is not None:
        feedback = feedback.filter(band)
    if params.get("q"):
        text = params["q"]
        feedback = feedback.filter(
            Q(body__icontains=text) | Q(title__icontains=text) | Q(customer__name__icontains=text)
        )
    return feedback.order_by("-received_at", "-id")


def feedback_search(workspace: Workspace, text: str, *, exclude: Any = None, limit: int = 8) -> list[Feedback]:
    text = (text or "").strip()
    if not text:
        return []
    found = (
        Feedback.objects.in_workspace(workspace)
        .filter(Q(body__icontains=text) | Q(title__icontains=text) | Q(customer__name__icontains=text))
        .exclude(triage=TriageState.DUPLICATE)
        .select_related("customer")
        .order_by("-received_at")
    )
    if exclude is not None:
        found = found.exclude(pk=exclude)
    return list(found[:limit])


def customer_feedback(customer: Customer) -> list[Feedback]:
    """Everything the customer said, each with its links, their items and sprints. Two queries."""
    return list(
        customer.feedback.order_by("-received_at").prefetch_related(
            _links_prefetch(),
        )
    )


def _links_prefetch() -> Any:
    from django.db.models import Prefetch

    return Prefetch(
        "links",
        queryset=FeedbackLink.objects.select_related("item__project", "item__sprint").filter(
            item__deleted_at__isnull=True
        ),
    )
