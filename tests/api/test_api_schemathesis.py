"""Property-based run of the whole API against its own OpenAPI schema (bounded for CI).

In-process over WSGI with the test's database connection kept open: Django closes "old"
connections at each request start and end, which would close the test transaction's.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests import factories as f
from tests.api.conftest import client_for
from tracker import models as m
from tracker.services.backlog import item_create
from tracker.services.feedback import feedback_link

SLUG, KEY = "acme-test", "SHOP"


@pytest.fixture
def api_schema(db, settings):
    from config.wsgi import application

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "100000/min", "user": "100000/min", "anon": "100000/min"},
    }
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(api_schema):
    workspace = f.WorkspaceFactory(slug=SLUG)
    project = f.ProjectFactory(workspace=workspace, key=KEY)
    owner = f.UserFactory(username="owner")
    f.MembershipFactory(workspace=workspace, user=owner, role=m.WorkspaceRole.OWNER)
    item = item_create(project=project, actor=owner, title="Checkout", source="jira", external_id="J-1")
    feedback = f.FeedbackFactory(workspace=workspace)
    feedback_link(feedback=feedback, item=item, actor=owner, quote="slow")
    f.SprintFactory(project=project, number=1)
    client = client_for(owner, workspace)
    return {"Authorization": client._credentials["HTTP_AUTHORIZATION"]}


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_without_5xx_and_as_documented(case, seeded):
    if "ws" in (case.path_parameters or {}):
        case.path_parameters["ws"] = SLUG
    if "key" in (case.path_parameters or {}):
        case.path_parameters["key"] = KEY
    case.call_and_validate(headers=seeded, checks=[not_a_server_error, response_schema_conformance])
