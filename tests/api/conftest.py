"""Fixtures for the REST API tests: clients holding a token of a given role and scope."""

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests import factories as f
from tracker import models as m
from tracker.services.tokens import token_create


@pytest.fixture(autouse=True)
def _api_settings(settings):
    # Fresh throttle buckets per test; delta pulls serve rows at once unless a test says otherwise.
    cache.clear()
    settings.API_SYNC_SETTLE_SECONDS = 0
    yield
    cache.clear()


def client_for(user, workspace, *, read_only: bool = False) -> APIClient:
    scope = m.TokenScope.READ if read_only else m.TokenScope.WRITE
    issued = token_create(workspace=workspace, user=user, name="test", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    client.token = issued.token  # type: ignore[attr-defined]
    return client


@pytest.fixture
def make_client() -> Callable[..., APIClient]:
    return client_for


@pytest.fixture
def admin_api(owner, workspace) -> APIClient:
    return client_for(owner, workspace)


@pytest.fixture
def po_api(po, workspace) -> APIClient:
    return client_for(po, workspace)


def member_with(workspace, project=None, *, role=m.WorkspaceRole.MEMBER, project_role=None, username=None):
    user = f.UserFactory(**({"username": username} if username else {}))
    f.MembershipFactory(workspace=workspace, user=user, role=role)
    if project is not None and project_role is not None:
        f.ProjectMembershipFactory(project=project, user=user, role=project_role)
    return user


@pytest.fixture
def stakeholder_api(workspace, project) -> APIClient:
    return client_for(member_with(workspace, project, project_role=m.ProjectRole.STAKEHOLDER), workspace)


@pytest.fixture
def developer_api(workspace, project) -> APIClient:
    return client_for(member_with(workspace, project, project_role=m.ProjectRole.DEVELOPER), workspace)


@pytest.fixture
def guest_api(workspace) -> APIClient:
    return client_for(member_with(workspace, role=m.WorkspaceRole.GUEST), workspace)


@pytest.fixture
def read_api(owner, workspace) -> APIClient:
    return client_for(owner, workspace, read_only=True)


@pytest.fixture
def foreign(other_workspace):
    """A project with one item, feedback and customer in another workspace, and its owner."""
    user = member_with(other_workspace, role=m.WorkspaceRole.OWNER, username="gary")
    project = f.ProjectFactory(workspace=other_workspace, key="OPS")
    item = f.ItemFactory(project=project, number=1, source="jira", external_id="OPS-1")
    customer = f.CustomerFactory(workspace=other_workspace, source="crm", external_id="c1")
    feedback = f.FeedbackFactory(workspace=other_workspace, customer=customer, source="desk", external_id="t1")
    return {"user": user, "project": project, "item": item, "customer": customer, "feedback": feedback}


BASE = "/api/v1/workspaces/acme-test"
ITEMS = f"{BASE}/projects/SHOP/items/"
