"""Workspace reports: feedback volume by channel and segment over time, score trends, loop
time distribution. Each function is one aggregate query."""

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from tracker.models import Channel, Feedback, Segment, Workspace
from tracker.services.metrics import summary_from_counts

MONTHS = 12


def month_starts(months: int = MONTHS) -> list[date]:
    today = timezone.localdate().replace(day=1)
    starts = [today]
    for _ in range(months - 1):
        starts.append((starts[-1] - timedelta(days=1)).replace(day=1))
    return list(reversed(starts))


def _since(months: list[date]) -> Any:
    return timezone.make_aware(timezone.datetime.combine(months[0], timezone.datetime.min.time()))


def _month(value: Any) -> date:
    return value.date() if hasattr(value, "date") else value


def volume_by(workspace: Workspace, field: str, months: list[date]) -> dict[str, list[int]]:
    """Feedback counts per month for each value of `field` (channel or customer__segment)."""
    rows = (
        Feedback.objects.filter(workspace=workspace, received_at__gte=_since(months))
        .annotate(month=TruncMonth("received_at"))
        .values_list("month", field)
        .annotate(n=Count("pk"))
        .order_by()
    )
    index = {m: i for i, m in enumerate(months)}
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for month, value, n in rows:
        i = index.get(_month(month))
        if i is not None:
            counts[value or "unattributed"][i] += n
    choices = Channel.choices if field == "channel" else [*Segment.choices, ("unattributed", "Unattributed")]
    return {label: counts[value] for value, label in choices if value in counts}


def score_trend(workspace: Workspace, months: list[date]) -> list[dict[str, Any]]:
    """NPS, CSAT % and CES per month."""
    rows = (
        Feedback.objects.filter(workspace=workspace, received_at__gte=_since(months))
        .annotate(month=TruncMonth("received_at"))
        .values("month")
        .annotate(
            nps_n=Count("pk", filter=Q(nps__isnull=False)),
            promoters=Count("pk", filter=Q(nps__gte=9)),
            detractors=Count("pk", filter=Q(nps__lte=6)),
            csat_n=Count("pk", filter=Q(csat__isnull=False)),
            satisfied=Count("pk", filter=Q(csat__gte=4)),
            ces_n=Count("pk", filter=Q(ces__isnull=False)),
            ces_mean=Avg("ces"),
        )
        .order_by()
    )
    by_month = {_month(r["month"]): summary_from_counts(r) for r in rows}
    empty = {"nps": None, "csat": None, "ces": None}
    return [by_month.get(m, empty) for m in months]
