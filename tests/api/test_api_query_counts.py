"""Query counts of the main lists and of bulk upserts do not grow with page or batch size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from tests.api.conftest import BASE, ITEMS
from tracker.services.backlog import item_create
from tracker.services.feedback import feedback_link


def queries_for(client, url, **params) -> int:
    client.get(url, params)  # warm up: the token's last use is recorded once a minute
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def backlog(project, owner, count):
    customer = f.CustomerFactory(workspace=project.workspace)
    for n in range(count):
        item = item_create(project=project, actor=owner, title=f"Item {n}", labels=["a", f"l{n}"])
        feedback = f.FeedbackFactory(workspace=project.workspace, customer=customer)
        feedback_link(feedback=feedback, item=item, actor=owner, quote="q")


# Per request: the token, read with its user, its workspace and the user's role there (1),
# then the list's own queries. Project roles are read only by what needs them.
AUTH = 1


def test_the_backlog_list_runs_a_fixed_number_of_queries(admin_api, project, owner):
    backlog(project, owner, 3)
    small = queries_for(admin_api, ITEMS)
    backlog(project, owner, 20)
    large = queries_for(admin_api, ITEMS, page_size=100)
    # project, items (with epic and sprint numbers, assignee, labels and objectives in the row)
    assert small == large == AUTH + 2


def test_the_feedback_list_runs_a_fixed_number_of_queries(admin_api, project, owner):
    backlog(project, owner, 3)
    small = queries_for(admin_api, f"{BASE}/feedback/")
    backlog(project, owner, 20)
    large = queries_for(admin_api, f"{BASE}/feedback/", page_size=100)
    # feedback with customer, links with item, project and linker
    assert small == large == AUTH + 2


def unlink_one(project, owner):
    from tracker.models import FeedbackLink
    from tracker.services.feedback import feedback_unlink

    link = FeedbackLink.objects.filter(item__project=project).select_related("feedback", "item__project").last()
    feedback_unlink(feedback=link.feedback, item=link.item, actor=owner)


def test_the_link_feed_runs_a_fixed_number_of_queries(admin_api, project, owner):
    backlog(project, owner, 3)
    unlink_one(project, owner)
    small = queries_for(admin_api, f"{BASE}/links/", updated_since="2000-01-01T00:00:00Z")
    backlog(project, owner, 20)
    unlink_one(project, owner)
    large = queries_for(admin_api, f"{BASE}/links/", updated_since="2000-01-01T00:00:00Z", page_size=100)
    # the feed's bounds, its changes (tombstones carry their keys), the live links with
    # items; on PostgreSQL also the commit-safe horizon (tracker.feed.read.horizon)
    horizon = 1 if connection.vendor == "postgresql" else 0
    assert small == large == AUTH + 3 + horizon


def test_the_customer_and_sprint_lists_run_a_fixed_number_of_queries(admin_api, project, workspace):
    f.CustomerFactory.create_batch(3, workspace=workspace)
    f.SprintFactory.create_batch(2, project=project)
    small = (queries_for(admin_api, f"{BASE}/customers/"), queries_for(admin_api, f"{BASE}/projects/SHOP/sprints/"))
    f.CustomerFactory.create_batch(20, workspace=workspace)
    f.SprintFactory.create_batch(20, project=project)
    large = (
        queries_for(admin_api, f"{BASE}/customers/", page_size=100),
        queries_for(admin_api, f"{BASE}/projects/SHOP/sprints/", page_size=100),
    )
    assert small == large == (AUTH + 1, AUTH + 2)


def bulk_queries(client, entries) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(f"{ITEMS}bulk/", {"items": entries}, format="json")
    assert response.status_code == 200, response.json()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("mode", ["create", "update"])
def test_bulk_upsert_runs_a_fixed_number_of_queries(admin_api, project, mode):
    def batch(start, count, title="Issue"):
        return [
            {"source": "jira", "external_id": f"J-{n}", "title": f"{title} {n}", "labels": ["x"], "status": "ready"}
            for n in range(start, start + count)
        ]

    admin_api.get(ITEMS)  # record the token's last use outside the measured requests
    if mode == "update":
        admin_api.post(f"{ITEMS}bulk/", {"items": batch(0, 30)}, format="json")
        small = bulk_queries(admin_api, batch(0, 3, "Changed"))
        large = bulk_queries(admin_api, batch(3, 25, "Changed"))
    else:
        small = bulk_queries(admin_api, batch(0, 3, "New"))
        large = bulk_queries(admin_api, batch(100, 25, "New"))
    # SQLite splits big inserts at 999 parameters; 25 entries stay within one statement.
    assert small == large


def test_feedback_bulk_upsert_runs_a_fixed_number_of_queries(admin_api, workspace):
    customer = f.CustomerFactory(workspace=workspace)

    def post(start, count, body):
        entries = [
            {"source": "desk", "external_id": f"t-{n}", "body": f"{body} {n}", "customer": str(customer.pk)}
            for n in range(start, start + count)
        ]
        with CaptureQueriesContext(connection) as ctx:
            response = admin_api.post(f"{BASE}/feedback/bulk/", {"feedback": entries}, format="json")
        assert response.status_code == 200, response.json()
        return len(ctx.captured_queries)

    admin_api.get(f"{BASE}/feedback/")
    assert post(0, 3, "New") == post(100, 25, "New")
    assert post(0, 3, "Changed") == post(100, 25, "Changed")


def grow(kind, workspace, project, owner, count):
    """Add `count` rows to the list named `kind`."""
    from tracker import models as m
    from tracker.services.comments import comment_create
    from tracker.services.tokens import token_create

    item = m.BacklogItem.objects.filter(project=project, number=1).first() or item_create(
        project=project, actor=owner, title="Commented"
    )
    feedback = m.Feedback.objects.filter(workspace=workspace, external_id="counted").first() or f.FeedbackFactory(
        workspace=workspace, source="desk", external_id="counted"
    )
    for _ in range(count):
        if kind == "members":
            f.MembershipFactory(workspace=workspace)
        elif kind == "projects":
            f.ProjectFactory(workspace=workspace)
        elif kind == "objectives":
            f.ObjectiveFactory(workspace=workspace)
        elif kind == "webhooks":
            m.Webhook.objects.create(workspace=workspace, url="https://hooks.example.com/x", secret="s" * 32)
        elif kind == "tokens":
            token_create(workspace=workspace, user=owner, name="more")
        elif kind == "workspaces":
            f.MembershipFactory(user=owner, role=m.WorkspaceRole.OWNER)
        elif kind == "comments":
            comment_create(item=item, actor=owner, body="A comment")
        elif kind == "feedback-links":
            other = item_create(project=project, actor=owner, title="Linked")
            feedback_link(feedback=feedback, item=other, actor=owner, quote="q")
    return {
        "members": f"{BASE}/members/",
        "projects": f"{BASE}/projects/",
        "objectives": f"{BASE}/objectives/",
        "webhooks": f"{BASE}/webhooks/",
        "tokens": f"{BASE}/tokens/",
        "workspaces": "/api/v1/workspaces/",
        "comments": f"{ITEMS}{item.number}/comments/",
        "feedback-links": f"{BASE}/feedback/{feedback.pk}/links/",
    }[kind]


# The list's own queries after AUTH:
#   members: memberships with users, project roles, visible projects (3)
#   projects: the visible projects (1);  objectives, webhooks, tokens: the rows (1)
#   workspaces: the user's workspaces (1)
#   comments: project, item with its labels and objectives, comments with authors (5)
#   feedback links: the feedback, its links with items and projects (2)
SMALL_LISTS = {
    "members": AUTH + 3,
    "projects": AUTH + 1,
    "objectives": AUTH + 1,
    "webhooks": AUTH + 1,
    "tokens": AUTH + 1,
    "workspaces": AUTH + 1,
    "comments": AUTH + 5,
    "feedback-links": AUTH + 2,
}


@pytest.mark.parametrize("kind", sorted(SMALL_LISTS))
def test_the_other_lists_run_a_fixed_number_of_queries(admin_api, workspace, project, owner, kind):
    url = grow(kind, workspace, project, owner, 2)
    small = queries_for(admin_api, url)
    grow(kind, workspace, project, owner, 25)
    large = queries_for(admin_api, url, page_size=100)
    assert small == large
    assert small == SMALL_LISTS[kind]
