"""Every URL of Loopwise. The API lives under /api/v1/; web pages are readable paths
(/<ws>/<KEY>/backlog/ …) that e-mails, webhooks and the API's `url` fields point at."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path

from tracker import ops
from tracker.api.exceptions import error_body


def api_not_found(request: HttpRequest, rest: str) -> JsonResponse:
    """Unknown paths under /api/v1/ answer in the API's error shape, not an HTML page."""
    return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=404)


urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("api/v1/", include("tracker.api.urls_background")),
    path("api/v1/", include("tracker.api.urls")),
    re_path(r"^api/v1/(?P<rest>.*)$", api_not_found),
    path("", include("tracker.web.urls_background")),
    path("", include("tracker.web.urls")),
]
