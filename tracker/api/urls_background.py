"""API paths for the background work: imports, suggestions, webhook delivery logs."""

from django.urls import path

from tracker.api.views import background

WS = "workspaces/<slug:ws>/"

urlpatterns = [
    path(WS + "imports/", background.ImportListView.as_view(), name="api-imports"),
    path(WS + "imports/<uuid:pk>/", background.ImportDetailView.as_view(), name="api-import"),
    path(WS + "imports/<uuid:pk>/start/", background.ImportStartView.as_view(), name="api-import-start"),
    path(
        WS + "feedback/<uuid:pk>/suggestions/",
        background.FeedbackSuggestionsView.as_view(),
        name="api-feedback-suggestions",
    ),
    path(WS + "webhooks/<uuid:pk>/deliveries/", background.DeliveryListView.as_view(), name="api-deliveries"),
    path(
        WS + "webhooks/<uuid:pk>/deliveries/<uuid:delivery_id>/redeliver/",
        background.DeliveryRedeliverView.as_view(),
        name="api-delivery-redeliver",
    ),
]
