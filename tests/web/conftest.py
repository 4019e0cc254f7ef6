"""Fixtures for the web pages: a team with every project role, logged-in clients, and a
backlog with customer feedback behind it."""

from decimal import Decimal

import pytest

from tests import factories as f
from tracker import models as m
from tracker.services.backlog import item_create
from tracker.services.feedback import feedback_link
from tracker.services.sprints import sprint_add_items, sprint_create, sprint_start


def member(workspace, project, username, role):
    user = f.UserFactory(username=username)
    f.MembershipFactory(workspace=workspace, user=user)
    f.ProjectMembershipFactory(project=project, user=user, role=role)
    return user


@pytest.fixture
def dev(workspace, project):
    return member(workspace, project, "dev", m.ProjectRole.DEVELOPER)


@pytest.fixture
def sm(workspace, project):
    return member(workspace, project, "sm", m.ProjectRole.SCRUM_MASTER)


@pytest.fixture
def stakeholder(workspace, project):
    return member(workspace, project, "stakeholder", m.ProjectRole.STAKEHOLDER)


@pytest.fixture
def outsider(other_workspace):
    user = f.UserFactory(username="outsider")
    f.MembershipFactory(workspace=other_workspace, user=user, role=m.WorkspaceRole.OWNER)
    return user


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def url(workspace, project):
    """Paths of the pages under test: url("backlog") → /acme-test/SHOP/backlog/."""

    def build(page: str = "", *, project_page: bool = True) -> str:
        if project_page:
            return f"/{workspace.slug}/{project.key}/{page}"
        return f"/{workspace.slug}/{page}"

    return build


@pytest.fixture
def make_items(workspace, project):
    """`n` ranked items, each with one piece of customer feedback linked with a quote."""

    def build(n: int, *, linked: bool = True, **fields):
        items = []
        for i in range(n):
            item = item_create(project=project, actor=None, title=f"Story {i}", estimate=Decimal(2), **fields)
            if linked:
                customer = f.CustomerFactory(workspace=workspace, segment=m.Segment.END_CUSTOMER)
                fb = f.FeedbackFactory(workspace=workspace, customer=customer, nps=4, body=f"Please fix {i}")
                feedback_link(feedback=fb, item=item, actor=None, quote=f"fix {i}")
            items.append(item)
        return items

    return build


@pytest.fixture
def active_sprint(project, make_items):
    """An active sprint with `n` items; returns (sprint, items)."""

    def build(n: int = 3):
        sprint = sprint_create(project=project, actor=None, name="Sprint 1", capacity=20)
        items = make_items(n)
        sprint_add_items(sprint=sprint, items=items, actor=None)
        sprint = sprint_start(sprint=sprint, actor=None)
        for item in items:
            item.refresh_from_db()
        return sprint, items

    return build
