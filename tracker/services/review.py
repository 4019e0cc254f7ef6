"""The sprint review: what shipped, for which customers, in their own words.

`sprint_review` returns plain, JSON-ready data (it is frozen into the sprint at close) and
runs a fixed number of queries however many items, links and customers there are.
"""

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, Q
from django.utils import timezone

from tracker.models import (
    BacklogItem,
    Feedback,
    FeedbackLink,
    ItemStatus,
    LoopState,
    Sprint,
    SprintState,
    TriageState,
)
from tracker.services.metrics import (
    UNATTRIBUTED,
    burndown,
    mix_vs_target,
    summary_from_counts,
    velocity_series,
)

TOP_OPEN = 5
FINISHED = (ItemStatus.DONE, ItemStatus.WONT_DO)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def sprint_review(sprint: Sprint, *, live: bool = False) -> dict[str, Any]:
    """Everything the review shows. A closed sprint answers its frozen snapshot unless `live`."""
    if sprint.state == SprintState.CLOSED and sprint.review_snapshot and not live:
        return sprint.review_snapshot
    project = sprint.project
    workspace = project.workspace
    now = timezone.now()
    committed = (sprint.commitment or {}).get("items", [])
    committed_ids = {c["id"] for c in committed}

    # 1. Items: in the sprint now, plus those committed at start (some may have left).
    items = list(
        BacklogItem.objects.filter(Q(sprint=sprint) | Q(pk__in=list(committed_ids)), deleted_at__isnull=True)
        .only(
            "pk",
            "number",
            "title",
            "kind",
            "status",
            "estimate",
            "sprint_id",
            "done_at",
            "feedback_count",
            "customer_count",
            "impact_score",
        )
        .order_by("rank")
    )
    by_id = {str(i.pk): i for i in items}
    in_sprint = [i for i in items if i.sprint_id == sprint.pk]
    done = [i for i in in_sprint if i.status == ItemStatus.DONE]
    carry = [i for i in in_sprint if i.status not in FINISHED]
    added = [i for i in in_sprint if committed and str(i.pk) not in committed_ids]
    in_sprint_ids = {str(i.pk) for i in in_sprint}  # once: per committed entry it was O(n²)
    removed_ids = [c for c in committed if c["id"] not in in_sprint_ids]

    def key(item: BacklogItem) -> str:
        return f"{project.key}-{item.number}"

    def points(rows: list[BacklogItem]) -> float:
        return round(float(sum(i.estimate or 0 for i in rows)), 1)

    # 2. Links of done and slipped items with their feedback and customers.
    link_rows = list(
        FeedbackLink.objects.filter(item_id__in=[i.pk for i in done + carry])
        .order_by("created_at")
        .values(
            "item_id",
            "quote",
            "feedback_id",
            "feedback__title",
            "feedback__body",
            "feedback__channel",
            "feedback__received_at",
            "feedback__loop_state",
            "feedback__customer_id",
            "feedback__customer__name",
            "feedback__customer__segment",
            "feedback__customer__tier",
            "feedback__customer__annual_value",
        )
    )
    links_by_item: dict[str, list[dict]] = defaultdict(list)
    for row in link_rows:
        links_by_item[str(row["item_id"])].append(row)

    problems = []
    served: dict[Any, dict[str, Any]] = {}
    addressed_feedback = set()
    segment_points: dict[str, float] = defaultdict(float)
    for item in done:
        rows = links_by_item.get(str(item.pk), [])
        problems.append(
            {
                "key": key(item),
                "title": item.title,
                "kind": item.kind,
                "estimate": float(item.estimate or 0),
                "feedback": [
                    {
                        "id": str(r["feedback_id"]),
                        "quote": r["quote"] or r["feedback__body"][:280],
                        "title": r["feedback__title"],
                        "channel": r["feedback__channel"],
                        "received_at": _iso(r["feedback__received_at"]),
                        "customer": r["feedback__customer__name"] or "Anonymous",
                        "customer_id": str(r["feedback__customer_id"]) if r["feedback__customer_id"] else None,
                        "segment": r["feedback__customer__segment"] or UNATTRIBUTED,
                        "annual_value": float(r["feedback__customer__annual_value"] or 0),
                    }
                    for r in rows
                ],
            }
        )
        customers = {
            r["feedback__customer_id"]: r["feedback__customer__segment"] for r in rows if r["feedback__customer_id"]
        }
        share = float(item.estimate or 0) / len(customers) if customers else 0.0
        if not customers:
            segment_points[UNATTRIBUTED] += float(item.estimate or 0)
        for segment in customers.values():
            segment_points[segment] += share
        for r in rows:
            if r["feedback__loop_state"] in (LoopState.ADDRESSED, LoopState.CLOSED):
                addressed_feedback.add(r["feedback_id"])
            if r["feedback__customer_id"]:
                served[r["feedback__customer_id"]] = {
                    "name": r["feedback__customer__name"],
                    "segment": r["feedback__customer__segment"],
                    "annual_value": float(r["feedback__customer__annual_value"] or 0),
                }

    carry_over = []
    for item in carry:
        rows = links_by_item.get(str(item.pk), [])
        waiting: dict[Any, dict[str, Any]] = {}
        for r in rows:
            cid = r["feedback__customer_id"] or f"anon:{r['feedback_id']}"
            first = waiting.setdefault(
                cid,
                {
                    "name": r["feedback__customer__name"] or "Anonymous",
                    "segment": r["feedback__customer__segment"] or UNATTRIBUTED,
                    "annual_value": float(r["feedback__customer__annual_value"] or 0),
                    "since": r["feedback__received_at"],
                },
            )
            first["since"] = min(first["since"], r["feedback__received_at"])
        customers_waiting = sorted(
            ({**w, "since": _iso(w["since"]), "days_waiting": (now - w["since"]).days} for w in waiting.values()),
            key=lambda w: -w["days_waiting"],
        )
        carry_over.append(
            {
                "key": key(item),
                "title": item.title,
                "status": item.status,
                "estimate": float(item.estimate or 0),
                "customers_waiting": customers_waiting,
                "annual_value_waiting": round(sum(w["annual_value"] for w in customers_waiting), 2),
                "longest_wait_days": customers_waiting[0]["days_waiting"] if customers_waiting else 0,
            }
        )

    # 3. Objectives advanced by done items.
    through = BacklogItem.objectives.through
    objective_rows = through.objects.filter(backlogitem_id__in=[i.pk for i in done]).values(
        "backlogitem_id",
        "objective_id",
        "objective__title",
        "objective__kpi",
        "objective__target",
        "objective__current",
    )
    objectives: dict[Any, dict[str, Any]] = {}
    for row in objective_rows:
        entry = objectives.setdefault(
            row["objective_id"],
            {
                "title": row["objective__title"],
                "kpi": row["objective__kpi"],
                "target": float(row["objective__target"]),
                "current": float(row["objective__current"]),
                "items": [],
            },
        )
        entry["items"].append(key(by_id[str(row["backlogitem_id"])]))

    # 4. Burndown and 5. velocity.
    burn = burndown(sprint, items=items)
    velocity = velocity_series(project)

    # 6. The most-requested problems still open in the project.
    top_open = [
        {
            "key": f"{project.key}-{number}",
            "title": title,
            "feedback_count": fc,
            "customer_count": cc,
            "impact": round(score, 2),
        }
        for number, title, fc, cc, score in BacklogItem.objects.in_project(project)
        .exclude(status__in=FINISHED)
        .filter(feedback_count__gt=0)
        .order_by("-feedback_count", "-impact_score", "rank")
        .values_list("number", "title", "feedback_count", "customer_count", "impact_score")[:TOP_OPEN]
    ]

    # 7. Much-requested feedback with no backlog item (asked again as duplicates, never linked).
    # Counted from the duplicates' side (a few percent of the feedback, read through the
    # triage index) instead of grouping every open feedback of the workspace.
    unlinked = [
        {
            "id": str(f["duplicate_of"]),
            "title": f["duplicate_of__title"] or f["duplicate_of__body"][:120],
            "asks": f["asks"] + 1,
            "customer": f["duplicate_of__customer__name"],
        }
        for f in Feedback.objects.filter(
            workspace=workspace, triage=TriageState.DUPLICATE, duplicate_of__loop_state=LoopState.OPEN
        )
        .exclude(duplicate_of__triage__in=[TriageState.DISMISSED, TriageState.DUPLICATE])
        .values(
            "duplicate_of",
            "duplicate_of__title",
            "duplicate_of__body",
            "duplicate_of__customer__name",
            "duplicate_of__received_at",
        )
        .annotate(asks=Count("pk"))
        .order_by("-asks", "-duplicate_of__received_at")[:TOP_OPEN]
    ]

    # 8. Score deltas of the customers served: their feedback before vs since the sprint start.
    start = sprint.started_at or timezone.make_aware(datetime.combine(sprint.start_date, datetime.min.time()))
    deltas: dict[str, Any] = {"before": None, "after": None, "delta": {}}
    if served:
        before, after = Q(received_at__lt=start), Q(received_at__gte=start)
        agg: dict[str, Any] = {}
        for name, cond in (("before", before), ("after", after)):
            agg |= {
                f"{name}_nps_n": Count("pk", filter=cond & Q(nps__isnull=False)),
                f"{name}_promoters": Count("pk", filter=cond & Q(nps__gte=9)),
                f"{name}_detractors": Count("pk", filter=cond & Q(nps__lte=6)),
                f"{name}_csat_n": Count("pk", filter=cond & Q(csat__isnull=False)),
                f"{name}_satisfied": Count("pk", filter=cond & Q(csat__gte=4)),
                f"{name}_ces_n": Count("pk", filter=cond & Q(ces__isnull=False)),
                f"{name}_ces_mean": Avg("ces", filter=cond),
            }
        counts = Feedback.objects.filter(workspace=workspace, customer_id__in=list(served)).aggregate(**agg)
        for name in ("before", "after"):
            deltas[name] = summary_from_counts(
                {
                    "nps_n": counts[f"{name}_nps_n"],
                    "promoters": counts[f"{name}_promoters"],
                    "detractors": counts[f"{name}_detractors"],
                    "csat_n": counts[f"{name}_csat_n"],
                    "satisfied": counts[f"{name}_satisfied"],
                    "ces_n": counts[f"{name}_ces_n"],
                    "ces_mean": counts[f"{name}_ces_mean"],
                }
            )
        for metric in ("nps", "csat", "ces"):
            b, a = deltas["before"][metric], deltas["after"][metric]
            deltas["delta"][metric] = round(a - b, 2) if a is not None and b is not None else None

    done_without_evidence = [
        {"key": key(i), "title": i.title, "kind": i.kind} for i in done if not links_by_item.get(str(i.pk))
    ]
    committed_points = float((sprint.commitment or {}).get("points", points(in_sprint)))
    return {
        "generated_at": now.isoformat(),
        "frozen": sprint.state == SprintState.CLOSED,
        "sprint": {
            "id": str(sprint.pk),
            "number": sprint.number,
            "name": sprint.name,
            "goal": sprint.goal,
            "state": sprint.state,
            "start_date": sprint.start_date.isoformat(),
            "end_date": sprint.end_date.isoformat(),
            "capacity": sprint.capacity,
            "started_at": _iso(sprint.started_at),
            "closed_at": _iso(sprint.closed_at),
        },
        "project": {"key": project.key, "name": project.name},
        "currency": workspace.currency,
        "committed": {"points": committed_points, "items": len(committed) if committed else len(in_sprint)},
        "completed": {"points": points(done), "items": len(done)},
        "scope_change": {
            "added": [{"key": key(i), "title": i.title, "estimate": float(i.estimate or 0)} for i in added],
            "removed": [{"key": c["key"], "estimate": c["estimate"]} for c in removed_ids],
            "added_points": points(added),
            "removed_points": round(sum(c["estimate"] for c in removed_ids), 1),
        },
        "carry_over": carry_over,
        "burndown": burn,
        "velocity": velocity,
        "problems_addressed": problems,
        "totals": {
            "customers_served": len(served),
            "feedback_addressed": len(addressed_feedback),
            "annual_value": round(sum(c["annual_value"] for c in served.values()), 2),
            "items_with_evidence": sum(1 for p in problems if p["feedback"]),
        },
        "segment_mix": mix_vs_target(dict(segment_points), project),
        "unattributed_points": round(segment_points.get(UNATTRIBUTED, 0.0), 1),
        "objectives": list(objectives.values()),
        "top_open": top_open,
        "score_deltas": deltas,
        "traceability": {"done_without_evidence": done_without_evidence, "requested_without_item": unlinked},
    }
