"""Every URL of Loopwise. The API lives under /api/v1/; web pages are readable paths
(/<ws>/<KEY>/backlog/ …) that e-mails, webhooks and the API's `url` fields point at."""

from django.urls import include, path

from tracker import ops

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("api/v1/", include("tracker.api.urls_background")),
    path("api/v1/", include("tracker.api.urls")),
    path("", include("tracker.web.urls_background")),
    path("", include("tracker.web.urls")),
]
