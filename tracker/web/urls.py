"""Web pages. The readable paths are part of the product (e-mails, webhooks and the API's
`url` fields link to them): keep them stable."""

from django.urls import path

import tracker.converters  # noqa: F401 - registers pkey, itemkey and seg
from tracker.web import (
    views_backlog,
    views_board,
    views_customers,
    views_home,
    views_inbox,
    views_items,
    views_planning,
    views_public,
    views_reports,
    views_review,
)

app_name = "web"
P = "<slug:ws>/<pkey:key>"

urlpatterns = [
    path("", views_home.root, name="root"),
    path("login/", views_home.LoginView.as_view(), name="login"),
    path("logout/", views_home.LogoutView.as_view(), name="logout"),
    path("<slug:ws>/", views_home.workspace_home, name="workspace"),
    path("<slug:ws>/feedback/new/", views_public.public_feedback, name="public_feedback"),
    path("<slug:ws>/inbox/", views_inbox.inbox, name="inbox"),
    path("<slug:ws>/inbox/items/", views_inbox.inbox_item_search, name="inbox_item_search"),
    path("<slug:ws>/inbox/feedback/", views_inbox.inbox_feedback_search, name="inbox_feedback_search"),
    path("<slug:ws>/inbox/<uuid:pk>/", views_inbox.inbox_detail, name="inbox_detail"),
    path("<slug:ws>/inbox/<uuid:pk>/<slug:action>/", views_inbox.inbox_action, name="inbox_action"),
    path("<slug:ws>/customers/<uuid:pk>/", views_customers.customer_detail, name="customer"),
    path("<slug:ws>/reports/", views_reports.reports, name="reports"),
    path(f"{P}/backlog/", views_backlog.backlog, name="backlog"),
    path(f"{P}/backlog/items/", views_backlog.backlog_create, name="backlog_create"),
    path(f"{P}/backlog/move/", views_backlog.backlog_move, name="backlog_move"),
    path(f"{P}/backlog/rerank/", views_backlog.backlog_rerank, name="backlog_rerank"),
    path(f"{P}/items/<int:number>/", views_items.item_detail, name="item"),
    path(f"{P}/items/<int:number>/edit/", views_items.item_edit, name="item_edit"),
    path(f"{P}/items/<int:number>/quick/", views_backlog.item_quick_edit, name="item_quick"),
    path(f"{P}/items/<int:number>/comments/", views_items.item_comment, name="item_comment"),
    path(f"{P}/planning/", views_planning.planning, name="planning"),
    path(f"{P}/sprints/new/", views_planning.sprint_new, name="sprint_new"),
    path(f"{P}/sprints/<int:number>/edit/", views_planning.sprint_edit, name="sprint_edit"),
    path(f"{P}/sprints/<int:number>/plan/", views_planning.sprint_plan, name="sprint_plan"),
    path(f"{P}/sprints/<int:number>/totals/", views_planning.sprint_totals, name="sprint_totals"),
    path(f"{P}/sprints/<int:number>/start/", views_planning.sprint_begin, name="sprint_start"),
    path(f"{P}/sprints/<int:number>/close/", views_board.sprint_finish, name="sprint_close"),
    path(f"{P}/sprints/<int:number>/review/", views_review.review, name="review"),
    path(f"{P}/sprints/<int:number>/review/feedback/", views_review.review_feedback, name="review_feedback"),
    path(f"{P}/board/", views_board.board, name="board"),
]
