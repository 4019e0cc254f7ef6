"""Periodic jobs (celery beat): burndown points, score roll-ups, untriaged-feedback
reminders, and cleanup of expired idempotency keys. Each is idempotent: running it twice
in a day writes the same rows."""

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Avg, Count, F, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from tracker.models import (
    BacklogItem,
    BurndownPoint,
    Feedback,
    ItemStatus,
    MetricRollup,
    ProjectMembership,
    ProjectRole,
    Sprint,
    SprintState,
    TriageState,
    Workspace,
)
from tracker.services.metrics import UNATTRIBUTED, burndown, summary_from_counts

logger = logging.getLogger(__name__)


# --- Burndown ------------------------------------------------------------------------------


def burndown_snapshot(sprint: Sprint) -> BurndownPoint:
    """Store today's remaining points of an active sprint (replaces today's earlier point)."""
    items = list(BacklogItem.objects.in_sprint(sprint).only("pk", "estimate", "status", "sprint_id", "done_at"))
    scope = float(sum(i.estimate or 0 for i in items))
    completed = float(sum(i.estimate or 0 for i in items if i.status == ItemStatus.DONE))
    point, _ = BurndownPoint.objects.update_or_create(
        sprint=sprint,
        day=timezone.localdate(),
        defaults={"remaining": round(scope - completed, 1), "completed": completed, "scope": scope},
    )
    return point


def burndown_snapshot_all() -> int:
    count = 0
    for sprint in Sprint.objects.filter(state=SprintState.ACTIVE).select_related("project"):
        burndown_snapshot(sprint)
        count += 1
    return count


def burndown_points(sprint: Sprint) -> list[dict[str, Any]]:
    """Stored points, or the replay from History for days nobody snapshotted."""
    stored = {p.day.isoformat(): p.remaining for p in sprint.burndown_points.all()}
    replay = burndown(sprint)
    return [
        {"day": day, "remaining": stored.get(day, remaining)}
        for day, remaining in zip(replay["days"], replay["remaining"], strict=False)
    ]


# --- Score roll-ups ------------------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@transaction.atomic
def metrics_rollup(*, workspace: Workspace, weeks: int = 8) -> int:
    """Recompute NPS, CSAT and CES per project (through the feedback's links), customer
    segment and ISO week for the last `weeks` weeks. Feedback linked to items of two
    projects counts for both; distinct counts keep a feedback linked to two items of one
    project from counting twice."""
    since_day = week_start(timezone.localdate()) - timedelta(weeks=weeks - 1)
    since = timezone.make_aware(datetime.combine(since_day, datetime.min.time()))
    rows = (
        Feedback.objects.filter(workspace=workspace, received_at__gte=since)
        .annotate(day=TruncDate("received_at"), project_id=F("links__item__project_id"), seg=F("customer__segment"))
        .values("project_id", "seg", "day")
        .annotate(
            n=Count("pk", distinct=True),
            nps_n=Count("pk", filter=Q(nps__isnull=False), distinct=True),
            promoters=Count("pk", filter=Q(nps__gte=9), distinct=True),
            detractors=Count("pk", filter=Q(nps__lte=6), distinct=True),
            csat_n=Count("pk", filter=Q(csat__isnull=False), distinct=True),
            satisfied=Count("pk", filter=Q(csat__gte=4), distinct=True),
            ces_n=Count("pk", filter=Q(ces__isnull=False), distinct=True),
            ces_mean=Avg("ces"),
        )
    )
    # Days → weeks in Python: TruncWeek differs between databases in corner cases.
    buckets: dict[tuple[Any, str, date], dict[str, Any]] = defaultdict(
        lambda: {k: 0 for k in ("n", "nps_n", "promoters", "detractors", "csat_n", "satisfied", "ces_n", "ces_sum")}
    )
    for row in rows:
        key = (row["project_id"], row["seg"] or UNATTRIBUTED, week_start(row["day"]))
        bucket = buckets[key]
        for k in ("n", "nps_n", "promoters", "detractors", "csat_n", "satisfied", "ces_n"):
            bucket[k] += row[k]
        bucket["ces_sum"] += float(row["ces_mean"] or 0) * row["ces_n"]
    MetricRollup.objects.filter(workspace=workspace, week__gte=since_day).delete()
    rollups = []
    for (project_id, segment, week), b in buckets.items():
        summary = summary_from_counts({**b, "ces_mean": b["ces_sum"] / b["ces_n"] if b["ces_n"] else None})
        rollups.append(
            MetricRollup(
                workspace=workspace,
                project_id=project_id,
                segment=segment,
                week=week,
                feedback_count=b["n"],
                **summary,
            )
        )
    MetricRollup.objects.bulk_create(rollups, batch_size=1000)
    return len(rollups)


def metrics_rollup_all(*, weeks: int = 8) -> int:
    return sum(metrics_rollup(workspace=ws, weeks=weeks) for ws in Workspace.objects.all())


# --- Reminders -----------------------------------------------------------------------------


def untriaged_reminders_plan(*, days: int | None = None) -> list[dict[str, Any]]:
    """Per workspace with feedback untriaged for more than `days` days: the product owners'
    e-mail addresses, how many are waiting and since when."""
    days = settings.UNTRIAGED_REMINDER_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    stale = (
        Feedback.objects.filter(triage=TriageState.NEW, received_at__lt=cutoff)
        .values("workspace_id")
        .annotate(n=Count("pk"), oldest=Min("received_at"))
    )
    waiting = {row["workspace_id"]: row for row in stale}
    if not waiting:
        return []
    owners: dict[Any, set[str]] = defaultdict(set)
    for ws_id, email in ProjectMembership.objects.filter(
        role=ProjectRole.PRODUCT_OWNER, project__workspace_id__in=list(waiting), user__is_active=True
    ).values_list("project__workspace_id", "user__email"):
        if email:
            owners[ws_id].add(email)
    names = dict(Workspace.objects.filter(pk__in=list(waiting)).values_list("pk", "name"))
    return [
        {"workspace": names[ws_id], "to": sorted(owners[ws_id]), "count": row["n"], "oldest": row["oldest"]}
        for ws_id, row in waiting.items()
        if owners[ws_id]
    ]


def untriaged_reminders_send(*, days: int | None = None) -> int:
    """E-mail each workspace's product owners how much feedback waits for triage. No
    transaction is open while sending."""
    days = settings.UNTRIAGED_REMINDER_DAYS if days is None else days
    messages = []
    for plan in untriaged_reminders_plan(days=days):
        waited = (timezone.now() - plan["oldest"]).days
        body = (
            f"{plan['count']} feedback in {plan['workspace']} have waited more than {days} days for triage; "
            f"the oldest arrived {waited} days ago.\n\nOpen the feedback inbox: {settings.SITE_URL}/\n"
        )
        messages.append((f"{plan['count']} feedback waiting for triage in {plan['workspace']}", body, None, plan["to"]))
    return send_mass_mail(messages) if messages else 0


# --- Idempotency keys ----------------------------------------------------------------------


def idempotency_keys_cleanup(*, ttl_hours: int | None = None) -> int:
    """Delete idempotency keys past their lifetime. The model belongs to the API; until it
    exists this logs and does nothing."""
    ttl_hours = settings.IDEMPOTENCY_KEY_TTL_HOURS if ttl_hours is None else ttl_hours
    try:
        model = apps.get_model("tracker", "IdempotencyKey")
    except LookupError:
        logger.info("No IdempotencyKey model yet; nothing to clean up")
        return 0
    fields = {f.name for f in model._meta.get_fields()}
    now = timezone.now()
    if "expires_at" in fields:
        qs = model.objects.filter(expires_at__lt=now)
    else:
        qs = model.objects.filter(created_at__lt=now - timedelta(hours=ttl_hours))
    deleted, _ = qs.delete()
    return deleted


__all__ = [
    "burndown_points",
    "burndown_snapshot",
    "burndown_snapshot_all",
    "idempotency_keys_cleanup",
    "metrics_rollup",
    "metrics_rollup_all",
    "untriaged_reminders_plan",
    "untriaged_reminders_send",
]
