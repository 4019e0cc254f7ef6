"""The app's URLs plus the ceiling: a bare Django view returning 100 rows from one indexed query."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from tracker.models import BacklogItem


def ceiling(request: HttpRequest) -> JsonResponse:
    project_id = request.GET["project"]
    rows = list(
        BacklogItem.objects.filter(project_id=project_id).order_by("rank").values("id", "number", "title", "rank")[:100]
    )
    return JsonResponse({"results": rows})


urlpatterns = [
    path("bench/ceiling/", ceiling),
    path("", include("config.urls")),
]
