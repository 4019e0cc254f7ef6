"""The sprint review: what shipped, for which customers, in their own words.

`sprint_review` returns plain, JSON-ready data (it is frozen into the sprint at close) and
runs a fixed number of queries however many items, links and customers there are.
"""

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Avg, Case, Count, DateTimeField, F, Q, Value, When, Window
from django.db.models.functions import RowNumber, Substr
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


def sprint_review(sprint: Sprint, *, live: bool = False, quotes: int | None = None) -> dict[str, Any]:
    """Everything the review shows. A closed sprint answers its frozen snapshot unless `live`.

    `quotes` keeps at most that many quotes per completed item and that many waiting
    customers per slipped item (`feedback_total` and `waiting_count` still count them all):
    the page shows a few, the exports and the frozen snapshot everything.
    """
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

    # 2. Links of done and slipped items: one compact row each (no text) for the totals, the
    # segment mix and the customers waiting; the quotes, with their text, in a second query
    # that can stop at `quotes` per item (the page shows a few; exports and snapshots all).
    links_by_item: dict[Any, list[tuple]] = defaultdict(list)
    for row in (
        # The sprint's live items that are done or unfinished, by a join: an IN list of their
        # ids costs more to send than the query takes.
        FeedbackLink.objects.filter(item__sprint=sprint, item__deleted_at__isnull=True)
        .exclude(item__status=ItemStatus.WONT_DO)
        .order_by()
        .values_list(
            "item_id",
            "feedback_id",
            "feedback__loop_state",
            # Only the slipped items' waits need the date: parsing 3,300 more costs ~15 ms.
            Case(
                When(item__status=ItemStatus.DONE, then=Value(None)),
                default=F("feedback__received_at"),
                output_field=DateTimeField(),
            ),
            "feedback__customer_id",
            "feedback__customer__name",
            "feedback__customer__segment",
            "feedback__customer__annual_value",
        )
    ):
        links_by_item[row[0]].append(row)
    quotes_by_item = _quotes(sprint, quotes)

    problems = []
    served: dict[Any, dict[str, Any]] = {}
    addressed_feedback = set()
    segment_points: dict[str, float] = defaultdict(float)
    for item in done:
        rows = links_by_item.get(item.pk, [])
        problems.append(
            {
                "key": key(item),
                "title": item.title,
                "kind": item.kind,
                "estimate": float(item.estimate or 0),
                "feedback_total": len(rows),
                "feedback": quotes_by_item.get(item.pk, []),
            }
        )
        customers = {r[4]: r[6] for r in rows if r[4]}
        share = float(item.estimate or 0) / len(customers) if customers else 0.0
        if not customers:
            segment_points[UNATTRIBUTED] += float(item.estimate or 0)
        for segment in customers.values():
            segment_points[segment] += share
        for _item, feedback_id, loop_state, _at, customer_id, name, segment, value in rows:
            if loop_state in (LoopState.ADDRESSED, LoopState.CLOSED):
                addressed_feedback.add(feedback_id)
            if customer_id:
                served[customer_id] = {"name": name, "segment": segment, "annual_value": float(value or 0)}

    carry_over = []
    for item in carry:
        waiting: dict[Any, dict[str, Any]] = {}
        for _item, feedback_id, _state, received_at, customer_id, name, segment, value in links_by_item.get(
            item.pk, []
        ):
            first = waiting.setdefault(
                customer_id or f"anon:{feedback_id}",
                {
                    "name": name or "Anonymous",
                    "segment": segment or UNATTRIBUTED,
                    "annual_value": float(value or 0),
                    "since": received_at,
                },
            )
            first["since"] = min(first["since"], received_at)
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
                "waiting_count": len(customers_waiting),
                "customers_waiting": customers_waiting if quotes is None else customers_waiting[:quotes],
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
    unlinked = requested_without_item(workspace, TOP_OPEN)

    # 8. Score deltas of the customers served: their feedback before vs since the sprint start.
    start = sprint.started_at or timezone.make_aware(datetime.combine(sprint.start_date, datetime.min.time()))
    deltas: dict[str, Any] = {"before": None, "after": None, "delta": {}}
    if served:
        before, after = Q(received_at__lt=start), Q(received_at__gte=start)
        agg: dict[str, Any] = {}
        for name, cond in (("before", before), ("after", after)):
            agg |= {
                # Counting the score columns (NULLs do not count), not the ids: the scores and
                # dates are all in feedback_customer_scores, so no feedback row is read.
                f"{name}_nps_n": Count("nps", filter=cond),
                f"{name}_promoters": Count("nps", filter=cond & Q(nps__gte=9)),
                f"{name}_detractors": Count("nps", filter=cond & Q(nps__lte=6)),
                f"{name}_csat_n": Count("csat", filter=cond),
                f"{name}_satisfied": Count("csat", filter=cond & Q(csat__gte=4)),
                f"{name}_ces_n": Count("ces", filter=cond),
                f"{name}_ces_mean": Avg("ces", filter=cond),
            }
        # The served customers are known from the links read above: one array parameter
        # (`__any`). As a subquery, finding them again through the links and their feedback
        # was half of this query's time (17 of 32 ms for 3,200 customers).
        counts = Feedback.objects.filter(customer_id__any=list(served)).aggregate(**agg)
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
        {"key": key(i), "title": i.title, "kind": i.kind} for i in done if not links_by_item.get(i.pk)
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
            "items_with_evidence": sum(1 for p in problems if p["feedback_total"]),
        },
        "segment_mix": mix_vs_target(dict(segment_points), project),
        "unattributed_points": round(segment_points.get(UNATTRIBUTED, 0.0), 1),
        "objectives": list(objectives.values()),
        "top_open": top_open,
        "score_deltas": deltas,
        "traceability": {"done_without_evidence": done_without_evidence, "requested_without_item": unlinked},
    }


def _done_links(sprint: Sprint) -> Any:
    return FeedbackLink.objects.filter(item__sprint=sprint, item__status=ItemStatus.DONE, item__deleted_at__isnull=True)


def _quotes(sprint: Sprint, limit: int | None) -> dict[Any, list[dict[str, Any]]]:
    """The feedback each done item of the sprint answered, oldest link first, at most `limit`
    per item."""
    links = _done_links(sprint)
    if limit is not None:
        # Number the links of each item on the link table alone, then join the feedback and
        # customers of the kept ones only (joining first read all 3,333 feedback of the
        # benchmark sprint's done items to keep 600).
        kept = (
            _done_links(sprint)
            .annotate(
                position=Window(RowNumber(), partition_by=F("item_id"), order_by=[F("created_at").asc(), F("id").asc()])
            )
            .filter(position__lte=limit)
            .values("id")
        )
        links = FeedbackLink.objects.filter(id__in=kept)
    rows = links.order_by("created_at", "id").values_list(
        "item_id",
        "quote",
        "feedback_id",
        "feedback__title",
        Substr("feedback__body", 1, 280),
        "feedback__channel",
        "feedback__received_at",
        "feedback__customer_id",
        "feedback__customer__name",
        "feedback__customer__segment",
        "feedback__customer__annual_value",
    )
    quotes: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for item_id, quote, fid, title, body, channel, received_at, cid, name, segment, value in rows:
        quotes[item_id].append(
            {
                "id": str(fid),
                "quote": quote or body,
                "title": title,
                "channel": channel,
                "received_at": _iso(received_at),
                "customer": name or "Anonymous",
                "customer_id": str(cid) if cid else None,
                "segment": segment or UNATTRIBUTED,
                "annual_value": float(value or 0),
            }
        )
    return quotes


# Originals checked per round when looking for the most-asked open ones (below), and how
# many of their ask counts are read from the database at a time.
REQUESTED_BATCH = 100
REQUESTED_FETCH = 1000


def requested_without_item(workspace: Any, limit: int) -> list[dict[str, Any]]:
    """The open feedback asked again most often (as duplicates), never linked to an item.

    Counted from the duplicates' side through the feedback_ws_duplicates index (no feedback
    row read); then only the most-asked originals are read and checked (open, not dismissed,
    not a duplicate themselves), a hundred at a time. Joining every duplicate to its original
    took 60 ms at 12,000 duplicates. The counts come a thousand at a time, most asked first:
    reading all of them (5,606 originals in the benchmark workspace) took longer in Python
    than the query. Ties keep the newest original first.
    """
    counted = (
        Feedback.objects.filter(workspace=workspace, triage=TriageState.DUPLICATE)
        .values_list("duplicate_of")
        .annotate(asks=Count("pk"))
        .order_by("-asks", "duplicate_of")
    )
    found: list[tuple[int, Any, dict[str, Any]]] = []
    offset, done = 0, False
    while not done:
        asks = list(counted[offset : offset + REQUESTED_FETCH])
        offset += REQUESTED_FETCH
        done = len(asks) < REQUESTED_FETCH
        for start in range(0, len(asks), REQUESTED_BATCH):
            counts = dict(asks[start : start + REQUESTED_BATCH])
            originals = (
                Feedback.objects.filter(pk__in=list(counts), loop_state=LoopState.OPEN)
                .exclude(triage__in=[TriageState.DISMISSED, TriageState.DUPLICATE])
                .values("pk", "title", "body", "received_at", "customer__name")
            )
            found += [(counts[f["pk"]], f["received_at"], f) for f in originals]
            # Exact once `limit` originals have more asks than anything not yet checked.
            smallest_read = asks[min(start + REQUESTED_BATCH, len(asks)) - 1][1]
            if sum(1 for n, _, _ in found if n > smallest_read) >= limit:
                done = True
                break
    found.sort(key=lambda entry: (-entry[0], -entry[1].timestamp()))
    return [
        {
            "id": str(f["pk"]),
            "title": f["title"] or f["body"][:120],
            "asks": n + 1,
            "customer": f["customer__name"],
        }
        for n, _, f in found[:limit]
    ]
