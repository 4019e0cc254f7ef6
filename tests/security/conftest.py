"""A workspace with one user per role and a second workspace whose data must never show.

`tenant` builds it once per test (about thirty rows); the permission matrix then runs every
request of a role against it, each inside a rolled-back savepoint so writes do not leak
from one row of the table into the next.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache

from tests import factories as f
from tracker import models as m
from tracker.services.backlog import item_create
from tracker.services.comments import comment_create
from tracker.services.feedback import feedback_link
from tracker.services.imports import import_start
from tracker.services.sprints import sprint_add_items, sprint_create, sprint_start
from tracker.services.tokens import token_create

SLUG, KEY = "acme-sec", "SHOP"
OTHER_SLUG, OTHER_KEY = "globex-sec", "OPS"


@dataclass
class Tenant:
    workspace: m.Workspace
    project: m.Project
    users: dict[str, Any]
    item: m.BacklogItem
    second_item: m.BacklogItem
    active: m.Sprint
    planned: m.Sprint
    customer: m.Customer
    feedback: m.Feedback
    objective: m.Objective
    webhook: m.Webhook
    admin_token: m.ApiToken
    secrets: dict[str, str]
    delivery: m.WebhookDelivery
    import_job: m.ImportJob
    foreign: dict[str, Any] = field(default_factory=dict)


def _user(workspace: m.Workspace, project: m.Project | None, name: str, ws_role: str, project_role: str | None):
    user = f.UserFactory(username=name)
    f.MembershipFactory(workspace=workspace, user=user, role=ws_role)
    if project is not None and project_role is not None:
        f.ProjectMembershipFactory(project=project, user=user, role=project_role)
    return user


def build_foreign() -> dict[str, Any]:
    """Another tenant, with objects that carry the same external ids as ours."""
    workspace = f.WorkspaceFactory(slug=OTHER_SLUG, name="Globex")
    project = f.ProjectFactory(workspace=workspace, key=OTHER_KEY, name="Operations")
    owner = _user(workspace, project, "gary", m.WorkspaceRole.OWNER, None)
    item = item_create(
        project=project, actor=owner, title="Globex secret roadmap", source="jira", external_id="SHARED-1"
    )
    customer = f.CustomerFactory(
        workspace=workspace, name="Globex Confidential Customer", source="crm", external_id="SHARED-C"
    )
    feedback = f.FeedbackFactory(
        workspace=workspace,
        customer=customer,
        title="Globex secret complaint",
        body="Globex secret complaint body",
        source="desk",
        external_id="SHARED-F",
    )
    feedback_link(feedback=feedback, item=item, actor=owner, quote="Globex secret quote")
    sprint = f.SprintFactory(project=project, number=1)
    objective = f.ObjectiveFactory(workspace=workspace, title="Globex objective")
    webhook = m.Webhook.objects.create(workspace=workspace, url="https://hooks.globex.example/x", secret="s" * 64)
    token = token_create(workspace=workspace, user=owner, name="globex")
    return {
        "workspace": workspace,
        "project": project,
        "owner": owner,
        "item": item,
        "customer": customer,
        "feedback": feedback,
        "sprint": sprint,
        "objective": objective,
        "webhook": webhook,
        "token": token.token,
        "secret": token.secret,
    }


@pytest.fixture
def tenant(db) -> Tenant:
    cache.clear()
    workspace = f.WorkspaceFactory(slug=SLUG, name="Acme Security")
    project = f.ProjectFactory(workspace=workspace, key=KEY, name="Shop")
    users = {
        "guest": _user(workspace, project, "guest", m.WorkspaceRole.GUEST, m.ProjectRole.STAKEHOLDER),
        "stakeholder": _user(workspace, project, "stakeholder", m.WorkspaceRole.MEMBER, m.ProjectRole.STAKEHOLDER),
        "developer": _user(workspace, project, "developer", m.WorkspaceRole.MEMBER, m.ProjectRole.DEVELOPER),
        "scrum_master": _user(workspace, project, "sm", m.WorkspaceRole.MEMBER, m.ProjectRole.SCRUM_MASTER),
        "product_owner": _user(workspace, project, "po", m.WorkspaceRole.MEMBER, m.ProjectRole.PRODUCT_OWNER),
        "admin": _user(workspace, None, "wsadmin", m.WorkspaceRole.ADMIN, None),
    }
    admin = users["admin"]
    item = item_create(project=project, actor=admin, title="Checkout", source="jira", external_id="SHARED-1")
    second = item_create(project=project, actor=admin, title="Gift cards", estimate=Decimal(2))
    customer = f.CustomerFactory(workspace=workspace, name="Ada Customer", source="crm", external_id="SHARED-C")
    feedback = f.FeedbackFactory(
        workspace=workspace, customer=customer, body="Checkout is slow", source="desk", external_id="SHARED-F"
    )
    feedback_link(feedback=feedback, item=item, actor=admin, quote="slow")
    comment_create(item=item, actor=admin, body="Looking into it")
    active = sprint_create(project=project, actor=admin, name="Sprint 1", capacity=20)
    sprint_add_items(sprint=active, items=[item], actor=admin)
    active = sprint_start(sprint=active, actor=admin)
    planned = sprint_create(project=project, actor=admin, name="Sprint 2", capacity=20)
    objective = f.ObjectiveFactory(workspace=workspace, title="Faster checkout")
    webhook = m.Webhook.objects.create(workspace=workspace, url="https://hooks.example.com/x", secret="s" * 64)
    owner = _user(workspace, None, "owner", m.WorkspaceRole.OWNER, None)
    read = token_create(workspace=workspace, user=owner, name="read", scope=m.TokenScope.READ)
    write = token_create(workspace=workspace, user=owner, name="write", scope=m.TokenScope.WRITE)
    spare = token_create(workspace=workspace, user=owner, name="spare", scope=m.TokenScope.WRITE)
    delivery = m.WebhookDelivery.objects.create(
        webhook=webhook, event="item.created", payload={"event": "item.created", "data": {"key": f"{KEY}-1"}}
    )
    import_job = import_start(
        workspace=workspace, actor=admin, kind="feedback", filename="f.csv", data=b"text,email\nSlow,a@example.com\n"
    )
    foreign = build_foreign()
    users["other"] = foreign["owner"]
    item.refresh_from_db()
    return Tenant(
        workspace=workspace,
        project=project,
        users=users,
        item=item,
        second_item=second,
        active=active,
        planned=planned,
        customer=customer,
        feedback=feedback,
        objective=objective,
        webhook=webhook,
        admin_token=spare.token,
        secrets={"token_read": read.secret, "token_write": write.secret},
        delivery=delivery,
        import_job=import_job,
        foreign=foreign,
    )
