"""Reports: velocity per project, feedback volume by channel and segment, NPS/CSAT/CES
trend and loop time distribution."""

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tracker.access import Action, Actor
from tracker.services.metrics import loop_times, velocity_series
from tracker.web import charts
from tracker.web.charts import Series
from tracker.web.common import base_context, member_view
from tracker.web.reports import month_starts, score_trend, volume_by

LOOP_BINS = [0, 7, 14, 30, 60, 90, 180]


@member_view
def reports(request: HttpRequest, actor: Actor) -> HttpResponse:
    # Queries: projects (1), velocity of the chosen project (1), volume by channel (1) and by
    # segment (1), score trend (1), loop times (1).
    # Any member may see velocity; the feedback charts need the right to read feedback.
    projects = list(actor.projects().order_by("key"))
    chosen = next((p for p in projects if p.key == request.GET.get("project")), projects[0] if projects else None)
    months = month_starts()
    labels = [m.strftime("%b %y") for m in months]
    context = base_context(actor, projects=projects, chosen=chosen)
    if chosen is not None:
        context["velocity_chart"] = charts.velocity_chart(
            velocity_series(chosen, last=12), title=f"Velocity · {chosen.key}"
        )
    if actor.can(Action.VIEW_FEEDBACK):
        by_channel = volume_by(actor.workspace, "channel", months)
        by_segment = volume_by(actor.workspace, "customer__segment", months)
        trend = score_trend(actor.workspace, months)
        loops = loop_times(actor.workspace, since=timezone.now() - timedelta(days=365))
        context.update(
            channel_chart=charts.bar_chart(
                "Feedback by channel",
                labels,
                [Series(name, values) for name, values in by_channel.items()],
                stacked=True,
                y_label="feedback",
                height=300,
            ),
            segment_chart=charts.bar_chart(
                "Feedback by segment",
                labels,
                [Series(name, values) for name, values in by_segment.items()],
                stacked=True,
                y_label="feedback",
                height=300,
            ),
            nps_chart=charts.line_chart(
                "NPS by month",
                labels,
                [Series("NPS", [t["nps"] for t in trend], "c1")],
                y_label="NPS",
                y_min=-100,
                y_max=100,
            ),
            csat_chart=charts.line_chart(
                "CSAT and CES by month",
                labels,
                [
                    Series("CSAT % satisfied", [t["csat"] for t in trend], "c2"),
                    Series("CES (1–7) × 10", [t["ces"] * 10 if t["ces"] is not None else None for t in trend], "c5"),
                ],
                y_label="score",
                y_max=100,
            ),
            loop_chart=charts.histogram(
                "Loop time: received → customer told", loops["days"], bins=LOOP_BINS, x_label="days"
            ),
            loops=loops,
        )
    return render(request, "tracker/reports.html", context)
