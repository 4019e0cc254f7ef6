"""Every path of the REST API under /api/v1/ (see issue #4 for the layout)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

import tracker.converters  # noqa: F401 - registers pkey, itemkey and seg
from tracker.api.views import comments, customers, feedback, integrations, items, sprints, workspace

WS = "workspaces/<slug:ws>/"
PROJECT = WS + "projects/<pkey:key>/"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("workspaces/", workspace.WorkspaceListView.as_view(), name="api-workspaces"),
    path(WS, workspace.WorkspaceDetailView.as_view(), name="api-workspace"),
    path(WS + "members/", workspace.MemberListView.as_view(), name="api-members"),
    path(WS + "projects/", workspace.ProjectListView.as_view(), name="api-projects"),
    path(PROJECT, workspace.ProjectDetailView.as_view(), name="api-project"),
    path(PROJECT + "items/", items.ItemListView.as_view(), name="api-items"),
    path(PROJECT + "items/bulk/", items.ItemBulkView.as_view(), name="api-items-bulk"),
    path(PROJECT + "items/export.csv", items.ItemExportView.as_view(), name="api-items-export"),
    path(
        PROJECT + "items/by-external/<seg:source>/<seg:external_id>/",
        items.ItemByExternalView.as_view(),
        name="api-item-by-external",
    ),
    path(PROJECT + "items/<int:number>/", items.ItemDetailView.as_view(), name="api-item"),
    path(PROJECT + "items/<int:number>/move/", items.ItemMoveView.as_view(), name="api-item-move"),
    path(PROJECT + "items/<int:number>/comments/", comments.ItemCommentsView.as_view(), name="api-item-comments"),
    path(PROJECT + "sprints/", sprints.SprintListView.as_view(), name="api-sprints"),
    path(PROJECT + "sprints/<int:number>/", sprints.SprintDetailView.as_view(), name="api-sprint"),
    path(PROJECT + "sprints/<int:number>/start/", sprints.SprintStartView.as_view(), name="api-sprint-start"),
    path(PROJECT + "sprints/<int:number>/close/", sprints.SprintCloseView.as_view(), name="api-sprint-close"),
    path(PROJECT + "sprints/<int:number>/review/", sprints.SprintReviewView.as_view(), name="api-sprint-review"),
    path(WS + "customers/", customers.CustomerListView.as_view(), name="api-customers"),
    path(
        WS + "customers/by-external/<seg:source>/<seg:external_id>/",
        customers.CustomerByExternalView.as_view(),
        name="api-customer-by-external",
    ),
    path(WS + "customers/<uuid:pk>/", customers.CustomerDetailView.as_view(), name="api-customer"),
    path(WS + "feedback/", feedback.FeedbackListView.as_view(), name="api-feedback-list"),
    path(WS + "feedback/bulk/", feedback.FeedbackBulkView.as_view(), name="api-feedback-bulk"),
    path(
        WS + "feedback/by-external/<seg:source>/<seg:external_id>/",
        feedback.FeedbackByExternalView.as_view(),
        name="api-feedback-by-external",
    ),
    path(WS + "feedback/<uuid:pk>/", feedback.FeedbackDetailView.as_view(), name="api-feedback"),
    path(WS + "feedback/<uuid:pk>/links/", feedback.FeedbackLinksView.as_view(), name="api-feedback-links"),
    path(
        WS + "feedback/<uuid:pk>/links/<itemkey:item_key>/",
        feedback.FeedbackLinkDetailView.as_view(),
        name="api-feedback-link",
    ),
    path(WS + "links/", integrations.LinkFeedView.as_view(), name="api-links"),
    path(WS + "links/by-external/", integrations.LinkByExternalView.as_view(), name="api-links-by-external"),
    path(WS + "objectives/", workspace.ObjectiveListView.as_view(), name="api-objectives"),
    path(WS + "objectives/<uuid:pk>/", workspace.ObjectiveDetailView.as_view(), name="api-objective"),
    path(WS + "webhooks/", integrations.WebhookListView.as_view(), name="api-webhooks"),
    path(WS + "webhooks/<uuid:pk>/", integrations.WebhookDetailView.as_view(), name="api-webhook"),
    path(WS + "tokens/", integrations.TokenListView.as_view(), name="api-tokens"),
    path(WS + "tokens/<uuid:pk>/", integrations.TokenDetailView.as_view(), name="api-token"),
]
