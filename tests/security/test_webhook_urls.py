"""Webhook URLs are checked when saved through the API: no loopback, link-local, private,
multicast or reserved targets, no names resolving to them, no credentials, no odd schemes.
(Delivery re-checks each hop, redirects included; that lives with the delivery worker.)"""

import socket
from unittest import mock

import pytest
from rest_framework.test import APIClient

from tests import factories as f
from tracker import models as m
from tracker.services.tokens import token_create

HOOKS = "/api/v1/workspaces/hooks/webhooks/"

REFUSED_LITERALS = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://[fd00::1]/hook",
    "http://100.64.0.1/hook",
    "http://224.0.0.1/hook",
    "http://0.0.0.0/hook",
    "http://240.0.0.1/hook",
    "http://localhost/hook",
    "http://localhost:9000/hook",
]
REFUSED_SHAPES = [
    "ftp://hooks.example.com/x",
    "file:///etc/passwd",
    "gopher://hooks.example.com/x",
    "javascript:alert(1)",
    "http://user:pass@hooks.example.com/x",
    "http:///nohost",
    "http://hooks.example.com:99999/x",
    "http://hooks.example.com:0/x",
    "not a url",
]


@pytest.fixture
def admin_api(db):
    workspace = f.WorkspaceFactory(slug="hooks")
    user = f.UserFactory()
    f.MembershipFactory(workspace=workspace, user=user, role=m.WorkspaceRole.ADMIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(workspace=workspace, user=user).secret}")
    return client


def resolving_to(*addresses):
    def fake(host, port, *args, **kwargs):
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    return mock.patch("tracker.services.urlsafety.socket.getaddrinfo", side_effect=fake)


@pytest.mark.parametrize("url", REFUSED_LITERALS + REFUSED_SHAPES)
def test_unsafe_webhook_urls_are_refused_with_a_field_error(admin_api, url):
    response = admin_api.post(HOOKS, {"url": url}, format="json")
    assert response.status_code == 400, (url, response.content)
    assert "url" in response.json()["fields"]
    assert not m.Webhook.objects.exists()


@pytest.mark.parametrize(
    "addresses",
    [("10.1.2.3",), ("127.0.0.1",), ("169.254.169.254",), ("93.184.216.34", "192.168.0.10"), ("::1",)],
)
def test_a_name_resolving_to_any_internal_address_is_refused(admin_api, addresses):
    with resolving_to(*addresses):
        response = admin_api.post(HOOKS, {"url": "https://innocent.example.com/hook"}, format="json")
    assert response.status_code == 400 and "url" in response.json()["fields"]
    assert not m.Webhook.objects.exists()


def test_a_name_that_does_not_resolve_is_refused(admin_api):
    with mock.patch("tracker.services.urlsafety.socket.getaddrinfo", side_effect=socket.gaierror("nope")):
        response = admin_api.post(HOOKS, {"url": "https://nowhere.invalid/hook"}, format="json")
    assert response.status_code == 400


def test_a_public_address_is_accepted(admin_api):
    with resolving_to("93.184.216.34"):
        response = admin_api.post(HOOKS, {"url": "https://hooks.example.com/loopwise"}, format="json")
    assert response.status_code == 201
    assert len(response.json()["secret"]) == 64


def test_changing_a_webhook_to_an_internal_url_is_refused_and_keeps_the_old_one(admin_api):
    with resolving_to("93.184.216.34"):
        created = admin_api.post(HOOKS, {"url": "https://hooks.example.com/a"}, format="json").json()
    response = admin_api.patch(f"{HOOKS}{created['id']}/", {"url": "http://169.254.169.254/"}, format="json")
    assert response.status_code == 400
    assert m.Webhook.objects.get().url == "https://hooks.example.com/a"


def test_private_targets_need_the_explicit_switch(admin_api):
    response = admin_api.post(HOOKS, {"url": "http://10.0.0.5/hook", "allow_private": True}, format="json")
    assert response.status_code == 201
    # Switching it off again re-checks the stored URL.
    response = admin_api.patch(f"{HOOKS}{response.json()['id']}/", {"allow_private": False}, format="json")
    assert response.status_code == 400
    assert m.Webhook.objects.get().allow_private is True
