"""Numbers the product is judged by: customer impact, segment mix, velocity, burndown,
loop time and the NPS/CSAT/CES aggregates. Every function runs a fixed number of queries."""

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from tracker.models import (
    BacklogItem,
    Feedback,
    FeedbackLink,
    History,
    ItemStatus,
    Project,
    Segment,
    Sprint,
    SprintState,
    Workspace,
)
from tracker.models.feedback import is_detractor
from tracker.models.workspace import DEFAULT_SEGMENT_WEIGHTS, DEFAULT_TIER_WEIGHTS

DETRACTOR_SEVERITY = 2.0
REPEAT_ASK_WEIGHT = 0.25
UNATTRIBUTED = "unattributed"


def value_factor(annual_value: Decimal | float | None) -> float:
    """1 for a customer worth nothing, +1 per tenfold of €1,000 a year (log scale)."""
    return 1.0 + math.log10(1.0 + float(annual_value or 0) / 1000.0)


def confidence_for(demand: int) -> float:
    if demand >= 5:
        return 1.0
    if demand >= 2:
        return 0.8
    return 0.5 if demand == 1 else 0.0


@dataclass
class CustomerContribution:
    customer_id: str | None
    name: str
    segment: str
    tier: str
    annual_value: float
    weight: float
    severity: float
    points: float


@dataclass
class Impact:
    """Customer impact of one item, with what each factor contributed."""

    reach: int = 0
    demand: int = 0
    detractors: int = 0
    annual_value: float = 0.0
    score: float = 0.0
    confidence: float = 0.0
    effort: float = 1.0
    rice: float = 0.0
    segments: dict[str, int] = field(default_factory=dict)
    customers: list[CustomerContribution] = field(default_factory=list)
    repeat_asks: float = 0.0

    @property
    def known_segments(self) -> list[str]:
        """Segments of the identified customers, sorted (what BacklogItem.customer_segments holds)."""
        return sorted(s for s in self.segments if s != UNATTRIBUTED)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_LINK_FIELDS = (
    "item_id",
    "feedback_id",
    "feedback__nps",
    "feedback__csat",
    "feedback__ces",
    "feedback__customer_id",
    "feedback__customer__name",
    "feedback__customer__segment",
    "feedback__customer__tier",
    "feedback__customer__annual_value",
)


def item_impacts(item_ids: Iterable[Any], *, workspace: Workspace | None = None) -> dict[Any, Impact]:
    """Impact per item from its linked feedback, in two queries however many links.

    Per distinct customer: weight = segment weight × tier weight × value factor, times the
    severity of their worst feedback (detractors count double). Each ask beyond the first per
    customer adds 0.25. RICE = reach × (score / reach) × confidence ÷ effort = score ×
    confidence ÷ effort, with confidence from the number of asks and effort the estimate.
    """
    ids = list(item_ids)
    if not ids:
        return {}
    rows = list(FeedbackLink.objects.filter(item_id__in=ids).values_list(*_LINK_FIELDS))
    items = BacklogItem.objects.filter(pk__in=ids).values_list("pk", "estimate", "project__workspace_id")
    estimates = {pk: est for pk, est, _ in items}
    if workspace is None:
        workspace_ids = {ws for _, _, ws in items}
        ws_settings = {w.pk: w for w in Workspace.objects.filter(pk__in=workspace_ids)}
    else:
        ws_settings = {workspace.pk: workspace}
    ws_of_item = {pk: ws for pk, _, ws in items}
    by_item: dict[Any, list[tuple]] = defaultdict(list)
    for row in rows:
        by_item[row[0]].append(row)
    result = {}
    for item_id in ids:
        ws = ws_settings.get(ws_of_item.get(item_id))
        seg_w = (ws.segment_weights if ws else None) or DEFAULT_SEGMENT_WEIGHTS
        tier_w = (ws.tier_weights if ws else None) or DEFAULT_TIER_WEIGHTS
        result[item_id] = _impact_from_rows(by_item.get(item_id, []), estimates.get(item_id), seg_w, tier_w)
    return result


def _impact_from_rows(rows: list[tuple], estimate: Decimal | None, seg_w: dict, tier_w: dict) -> Impact:
    impact = Impact(demand=len(rows))
    customers: dict[Any, dict[str, Any]] = {}
    for _item, feedback_id, nps, csat, ces, cust_id, name, segment, tier, value in rows:
        key = cust_id or f"anonymous:{feedback_id}"
        severity = DETRACTOR_SEVERITY if is_detractor(nps, csat, ces) else 1.0
        if severity > 1:
            impact.detractors += 1
        entry = customers.setdefault(
            key,
            {
                "customer_id": str(cust_id) if cust_id else None,
                "name": name or "Anonymous",
                "segment": segment or UNATTRIBUTED,
                "tier": tier or "",
                "annual_value": float(value or 0),
                "severity": 1.0,
                "asks": 0,
            },
        )
        entry["severity"] = max(entry["severity"], severity)
        entry["asks"] += 1
    for entry in customers.values():
        weight = (
            float(seg_w.get(entry["segment"], 1.0))
            * float(tier_w.get(entry["tier"], 1.0))
            * value_factor(entry["annual_value"])
        )
        points = weight * entry["severity"]
        impact.score += points
        impact.repeat_asks += REPEAT_ASK_WEIGHT * (entry["asks"] - 1)
        impact.annual_value += entry["annual_value"]
        impact.segments[entry["segment"]] = impact.segments.get(entry["segment"], 0) + 1
        impact.customers.append(
            CustomerContribution(
                customer_id=entry["customer_id"],
                name=entry["name"],
                segment=entry["segment"],
                tier=entry["tier"],
                annual_value=entry["annual_value"],
                weight=round(weight, 3),
                severity=entry["severity"],
                points=round(points, 3),
            )
        )
    impact.customers.sort(key=lambda c: -c.points)
    impact.score = round(impact.score + impact.repeat_asks, 3)
    impact.reach = len(customers)
    impact.confidence = confidence_for(impact.demand)
    impact.effort = float(estimate) if estimate else 1.0
    impact.rice = round(impact.score * impact.confidence / max(impact.effort, 0.5), 3)
    return impact


# --- Segment mix -------------------------------------------------------------------------


def segment_mix(item_ids: Iterable[Any]) -> dict[str, float]:
    """Points per segment: each item's points shared across its distinct customers' segments.

    Items with no customer evidence count as 'unattributed'. Two queries.
    """
    ids = list(item_ids)
    mix: dict[str, float] = {s: 0.0 for s in [*Segment.values, UNATTRIBUTED]}
    if not ids:
        return mix
    estimates = dict(BacklogItem.objects.filter(pk__in=ids).values_list("pk", "estimate"))
    customers: dict[Any, dict[Any, str]] = defaultdict(dict)
    rows = FeedbackLink.objects.filter(item_id__in=ids).values_list(
        "item_id", "feedback__customer_id", "feedback__customer__segment"
    )
    for item_id, customer_id, segment in rows:
        if customer_id is not None:
            customers[item_id][customer_id] = segment
    for item_id, estimate in estimates.items():
        points = float(estimate or 0)
        segs = list(customers[item_id].values())
        if not segs:
            mix[UNATTRIBUTED] += points
            continue
        for segment in segs:
            mix[segment] += points / len(segs)
    return {k: round(v, 2) for k, v in mix.items()}


def mix_percentages(mix: dict[str, float]) -> dict[str, float]:
    total = sum(mix.values())
    return {k: round(100 * v / total, 1) if total else 0.0 for k, v in mix.items()}


def mix_vs_target(mix: dict[str, float], project: Project) -> list[dict[str, Any]]:
    """Rows of segment, actual % (of attributed points) and target %."""
    attributed = {k: v for k, v in mix.items() if k != UNATTRIBUTED}
    pct = mix_percentages(attributed)
    target = project.target_mix
    return [
        {
            "segment": seg,
            "label": Segment(seg).label,
            "points": attributed.get(seg, 0.0),
            "actual": pct.get(seg, 0.0),
            "target": target[seg],
            "delta": round(pct.get(seg, 0.0) - target[seg], 1),
        }
        for seg in Segment.values
    ]


# --- Velocity and burndown ---------------------------------------------------------------


def velocity(project: Project, *, last: int = 3) -> float | None:
    """Mean completed points of the last `last` closed sprints, or None before the first."""
    points = list(
        Sprint.objects.filter(project=project, state=SprintState.CLOSED)
        .order_by("-closed_at", "-number")
        .values_list("completed_points", flat=True)[:last]
    )
    if not points:
        return None
    return round(sum(float(p or 0) for p in points) / len(points), 1)


def velocity_series(project: Project, *, last: int = 8) -> list[dict[str, Any]]:
    sprints = list(
        Sprint.objects.filter(project=project, state=SprintState.CLOSED)
        .order_by("-number")
        .values("number", "name", "completed_points", "commitment")[:last]
    )
    return [
        {
            "number": s["number"],
            "name": s["name"],
            "completed": float(s["completed_points"] or 0),
            "committed": float((s["commitment"] or {}).get("points", 0)),
        }
        for s in reversed(sprints)
    ]


def sprint_points(items: Iterable[BacklogItem]) -> float:
    return float(sum((i.estimate or 0) for i in items))


def burndown(sprint: Sprint, *, items: list[BacklogItem] | None = None) -> dict[str, Any]:
    """Remaining points at the end of each day of the sprint, replayed from History.

    Items considered: those committed at start, those in the sprint now, and those that
    History shows moving in or out. Two queries (items, history) when `items` is not given.
    """
    if sprint.start_date is None or sprint.end_date is None:
        return {"days": [], "remaining": [], "ideal": []}
    sprint_id = str(sprint.pk)
    events = list(
        History.objects.filter(
            Q(sprint=sprint) | Q(field="sprint", old=sprint_id) | Q(field="sprint", new=sprint_id),
            item__isnull=False,
            field__in=("status", "sprint"),
        )
        .order_by("at", "id")
        .values_list("item_id", "at", "field", "old", "new")
    )
    committed_ids = {c["id"] for c in (sprint.commitment or {}).get("items", [])}
    if items is None:
        ids = {e[0] for e in events} | {str(i) for i in committed_ids}
        items = list(
            BacklogItem.objects.filter(Q(sprint=sprint) | Q(pk__in=list(ids))).only(
                "pk", "estimate", "status", "sprint_id", "done_at"
            )
        )
    estimates = {str(i.pk): float(i.estimate or 0) for i in items}
    start_at = sprint.started_at or timezone.make_aware(datetime.combine(sprint.start_date, datetime.min.time()))
    # State at sprint start: committed items are in; status as of then (replayed below).
    in_sprint: dict[str, bool] = {}
    done: dict[str, bool] = {}
    per_item_events: dict[str, list] = defaultdict(list)
    for item_id, at, fld, old, new in events:
        per_item_events[str(item_id)].append((at, fld, old, new))
    for item in items:
        key = str(item.pk)
        in_sprint[key] = key in committed_ids if sprint.commitment else item.sprint_id == sprint.pk
        # The status at start is the `old` of the first later status change, else today's.
        later = next((e for e in per_item_events.get(key, []) if e[1] == "status" and e[0] >= start_at), None)
        done[key] = (later[2] if later else item.status) == ItemStatus.DONE
    today = timezone.localdate()
    last_day = min(sprint.end_date, today) if sprint.state != SprintState.CLOSED else sprint.end_date
    if sprint.closed_at:
        last_day = min(last_day, timezone.localdate(sprint.closed_at))
    days: list[date] = []
    remaining: list[float] = []
    day = sprint.start_date
    pending = sorted(
        ((at, key, fld, new) for key, evs in per_item_events.items() for at, fld, _old, new in evs if at >= start_at),
        key=lambda e: e[0],
    )
    index = 0
    while day <= last_day:
        end_of_day = timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))
        while index < len(pending) and pending[index][0] < end_of_day:
            _at, key, fld, new = pending[index]
            if fld == "status":
                done[key] = new == ItemStatus.DONE
            else:
                in_sprint[key] = new == sprint_id
            index += 1
        days.append(day)
        remaining.append(
            round(sum(estimates.get(k, 0) for k, inside in in_sprint.items() if inside and not done.get(k)), 1)
        )
        day += timedelta(days=1)
    total_days = (sprint.end_date - sprint.start_date).days or 1
    committed = float((sprint.commitment or {}).get("points", remaining[0] if remaining else 0))
    ideal = [
        round(committed * max(0.0, 1 - (d - sprint.start_date).days / total_days), 1)
        for d in (sprint.start_date + timedelta(days=n) for n in range(total_days + 1))
    ]
    return {
        "days": [d.isoformat() for d in days],
        "remaining": remaining,
        "ideal": ideal,
        "ideal_days": [(sprint.start_date + timedelta(days=n)).isoformat() for n in range(total_days + 1)],
    }


# --- Scores and loop time ----------------------------------------------------------------


def score_summary(feedback: QuerySet[Feedback]) -> dict[str, Any]:
    """NPS (% promoters − % detractors), CSAT (% satisfied, 4–5) and CES (mean) in one query."""
    agg = feedback.aggregate(
        nps_n=Count("pk", filter=Q(nps__isnull=False)),
        promoters=Count("pk", filter=Q(nps__gte=9)),
        detractors=Count("pk", filter=Q(nps__lte=6)),
        csat_n=Count("pk", filter=Q(csat__isnull=False)),
        satisfied=Count("pk", filter=Q(csat__gte=4)),
        ces_n=Count("pk", filter=Q(ces__isnull=False)),
        ces_mean=Avg("ces"),
    )
    return summary_from_counts(agg)


def summary_from_counts(agg: dict[str, Any]) -> dict[str, Any]:
    nps = round(100 * (agg["promoters"] - agg["detractors"]) / agg["nps_n"], 1) if agg["nps_n"] else None
    csat = round(100 * agg["satisfied"] / agg["csat_n"], 1) if agg["csat_n"] else None
    ces = round(float(agg["ces_mean"]), 2) if agg["ces_mean"] is not None else None
    return {
        "nps": nps,
        "nps_responses": agg["nps_n"],
        "csat": csat,
        "csat_responses": agg["csat_n"],
        "ces": ces,
        "ces_responses": agg["ces_n"],
    }


def loop_times(workspace: Workspace, *, since: datetime | None = None) -> dict[str, Any]:
    """Days from feedback received to loop closed (customer told), for closed loops."""
    qs = Feedback.objects.filter(workspace=workspace, notified_at__isnull=False)
    if since is not None:
        qs = qs.filter(notified_at__gte=since)
    days = sorted(
        (notified - received).total_seconds() / 86400
        for received, notified in qs.values_list("received_at", "notified_at")
    )
    if not days:
        return {"count": 0, "median_days": None, "p90_days": None, "days": []}
    p90 = days[min(len(days) - 1, int(0.9 * len(days)))]
    return {
        "count": len(days),
        "median_days": round(median(days), 1),
        "p90_days": round(p90, 1),
        "days": [round(d, 1) for d in days],
    }
