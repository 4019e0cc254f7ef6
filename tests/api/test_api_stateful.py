"""Stateful (link-following) run of the whole API: schemathesis chains operations through
the links it infers from the schema (a created item's `number` feeds GET/PATCH/DELETE of
that item, a customer's `id` feeds its detail…), bounded for CI. Zero 5xx, and every
response matches the schema. Uses the in-process fixtures of test_api_schemathesis.py."""

import pytest
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.test_api_schemathesis import KEY, SLUG, api_schema, seeded  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


def test_chained_operations_answer_without_5xx_and_as_documented(api_schema, seeded):  # noqa: F811
    base = api_schema.as_state_machine()
    # Links inferred from the schema (operation A's response field feeds B's parameter).
    transitions = sum(len(v.outgoing) for v in base._transitions.operations.values())
    assert transitions > 50, "without links the run would only test operations one by one"

    class Machine(base):  # type: ignore[misc, valid-type]
        # Each scenario starts from the same data: its writes are rolled back at the end,
        # so the rules hypothesis can pick do not depend on what an earlier scenario did.
        def setup(self):
            cache.clear()
            self._scenario = transaction.atomic()
            self._scenario.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self._scenario.__exit__(None, None, None)

        def before_call(self, case):
            params = case.path_parameters or {}
            if "ws" in params:
                params["ws"] = SLUG
            if "key" in params:
                params["key"] = KEY
            case.headers = {**(case.headers or {}), **seeded}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    Machine.run(
        settings=settings(
            max_examples=25,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )


def test_the_links_of_one_feedback_are_documented_as_the_plain_list_they_are(api_schema):  # noqa: F811
    schema = api_schema.raw_schema
    get = schema["paths"]["/api/v1/workspaces/{ws}/feedback/{id}/links/"]["get"]
    body = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
