"""The OpenAPI schema and the browsable docs."""

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import ITEMS
from tests.conftest import need, port_open

ISSUE_PATHS = [
    "/api/v1/workspaces/",
    "/api/v1/workspaces/{ws}/",
    "/api/v1/workspaces/{ws}/members/",
    "/api/v1/workspaces/{ws}/projects/",
    "/api/v1/workspaces/{ws}/projects/{key}/",
    "/api/v1/workspaces/{ws}/projects/{key}/items/",
    "/api/v1/workspaces/{ws}/projects/{key}/items/{number}/",
    "/api/v1/workspaces/{ws}/projects/{key}/items/{number}/move/",
    "/api/v1/workspaces/{ws}/projects/{key}/items/by-external/{source}/{external_id}/",
    "/api/v1/workspaces/{ws}/projects/{key}/items/bulk/",
    "/api/v1/workspaces/{ws}/projects/{key}/sprints/",
    "/api/v1/workspaces/{ws}/projects/{key}/sprints/{number}/",
    "/api/v1/workspaces/{ws}/projects/{key}/sprints/{number}/start/",
    "/api/v1/workspaces/{ws}/projects/{key}/sprints/{number}/close/",
    "/api/v1/workspaces/{ws}/projects/{key}/sprints/{number}/review/",
    "/api/v1/workspaces/{ws}/customers/",
    "/api/v1/workspaces/{ws}/customers/by-external/{source}/{external_id}/",
    "/api/v1/workspaces/{ws}/feedback/",
    "/api/v1/workspaces/{ws}/feedback/by-external/{source}/{external_id}/",
    "/api/v1/workspaces/{ws}/feedback/bulk/",
    "/api/v1/workspaces/{ws}/feedback/{id}/links/",
    "/api/v1/workspaces/{ws}/feedback/{id}/links/{item_key}/",
    "/api/v1/workspaces/{ws}/links/",
    "/api/v1/workspaces/{ws}/objectives/",
    "/api/v1/workspaces/{ws}/webhooks/",
    "/api/v1/workspaces/{ws}/tokens/",
]


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_has_every_path_of_the_issue(schema):
    assert set(ISSUE_PATHS) <= set(schema["paths"])


def test_every_operation_has_an_example_or_a_typed_answer(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert any(code.startswith("2") for code in answers), (method, path)


def test_the_main_operations_carry_examples(schema):
    items = schema["paths"]["/api/v1/workspaces/{ws}/projects/{key}/items/bulk/"]["post"]
    assert items["requestBody"]["content"]["application/json"]["examples"]


def test_bearer_tokens_are_the_documented_scheme(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_docs_page_renders(db):
    assert APIClient().get("/api/v1/docs/").status_code == 200


@pytest.mark.redis
def test_throttling_counts_in_redis_when_it_is_the_cache(admin_api, project, settings):
    need(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/5"}
    }
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "1/min"}}
    assert admin_api.get(ITEMS).status_code == 200
    assert admin_api.get(ITEMS).status_code == 429
    cache.clear()
