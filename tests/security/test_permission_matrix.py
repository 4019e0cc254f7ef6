"""Who may do what, for every URL of Loopwise, from one table.

The URL conf is enumerated: a new URL without a row in TABLE fails
`test_every_url_has_a_row_in_the_table`. Each row names a concrete path for the pattern and,
per method, the answer for each role in ROLES order:

    anonymous, member of another workspace, guest (stakeholder of SHOP), stakeholder,
    developer, scrum master, product owner, workspace admin, read token, write token

Codes: a number is the status; `L` is a 302 to the login page; `R` any other 302. Web pages
use the session (a bearer token means nothing there: the token roles are anonymous); the
API uses the session for the member roles and the workspace owner's tokens for the token
roles. Every request runs in a savepoint that is rolled back, so one row's writes never
change what the next row sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from rest_framework.test import APIClient

from tests.security.conftest import KEY, SLUG, Tenant
from tracker import models as m

ROLES = (
    "anonymous",
    "other",
    "guest",
    "stakeholder",
    "developer",
    "scrum_master",
    "product_owner",
    "admin",
    "token_read",
    "token_write",
)

W = f"/{SLUG}"
P = f"/{SLUG}/{KEY}"
A = f"/api/v1/workspaces/{SLUG}"
AP = f"{A}/projects/{KEY}"


@dataclass
class Row:
    path: Callable[[Tenant], str] | str
    methods: dict[str, str]
    body: Callable[[Tenant], dict[str, Any]] | dict[str, Any] | None = None
    before: Callable[[Tenant], None] | None = None
    htmx: bool = False
    multipart: bool = False

    def concrete(self, t: Tenant) -> str:
        return self.path(t) if callable(self.path) else self.path

    def data(self, t: Tenant) -> dict[str, Any]:
        if self.body is None:
            return {}
        return self.body(t) if callable(self.body) else self.body


def close_active(t: Tenant) -> None:
    m.Sprint.objects.filter(pk=t.active.pk).update(state=m.SprintState.CLOSED, closed_at=timezone.now())


def item_form(t: Tenant) -> dict[str, Any]:
    return {
        "version": t.item.version,
        "title": "Checkout, faster",
        "kind": "story",
        "status": "ready",
        "priority": "3",
        "estimate": "3",
        "epic": "",
        "assignee": "",
        "labels": "",
        "description": "",
        "acceptance_criteria": "",
    }


def upload(t: Tenant) -> dict[str, Any]:
    return {"kind": "feedback", "source": "", "project": "", "file": SimpleUploadedFile("f.csv", b"text\nSlow\n")}


def settings_form(t: Tenant) -> dict[str, Any]:
    t.project.refresh_from_db()
    return {
        "version": t.project.version, "mix_end_customer": 70, "mix_employee": 10, "mix_management": 10,
        "mix_partner": 10, "notify_customers": "on", "digest_subject": "Shipped", "digest_template": "",
    }  # fmt: skip


def sprint_form(t: Tenant) -> dict[str, Any]:
    start = timezone.localdate() + timedelta(days=14)
    return {
        "version": t.planned.version,
        "name": "Sprint 2",
        "goal": "Ship",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=13)).isoformat(),
        "capacity": "20",
    }


# Shorthands for the most common lines (ROLES order).
WEB_MEMBERS = "L 404 200 200 200 200 200 200 L L"
WEB_NO_GUEST = "L 404 403 200 200 200 200 200 L L"
API_MEMBERS = "401 404 200 200 200 200 200 200 200 200"
API_NO_GUEST = "401 404 403 200 200 200 200 200 200 200"
API_ADMINS = "401 404 403 403 403 403 403 200 403 200"
API_TRIAGE = "401 404 403 403 403 403 200 200 403 200"
API_EDIT = "401 404 403 403 200 200 200 200 403 200"

TABLE: dict[str, Row] = {
    # --- Operations and Django's admin (staff only; nobody here is staff) ---------------
    "healthz": Row("/healthz", {"GET": "200 200 200 200 200 200 200 200 200 200"}),
    "readyz": Row("/readyz", {"GET": "200 200 200 200 200 200 200 200 200 200"}),
    "admin/": Row("/admin/", {"GET": "R R R R R R R R R R"}),
    # --- Web pages ----------------------------------------------------------------------
    "": Row("/", {"GET": "L R R R R R R R L L"}),
    "login/": Row("/login/", {"GET": "200 R R R R R R R 200 200"}),
    "logout/": Row("/logout/", {"POST": "L L L L L L L L L L"}),
    "<slug:ws>/": Row(f"{W}/", {"GET": WEB_MEMBERS}),
    "<slug:ws>/feedback/new/": Row(
        f"{W}/feedback/new/",
        {"GET": "200 200 200 200 200 200 200 200 200 200", "POST": "200 200 200 200 200 200 200 200 200 200"},
        body={"name": "Ann", "email": "ann@example.com", "body": "Gift wrap", "nps": "9", "website": ""},
    ),
    "<slug:ws>/inbox/": Row(f"{W}/inbox/", {"GET": WEB_NO_GUEST}),
    "<slug:ws>/inbox/items/": Row(f"{W}/inbox/items/?q=check", {"GET": WEB_NO_GUEST}),
    "<slug:ws>/inbox/feedback/": Row(f"{W}/inbox/feedback/?q=slow", {"GET": WEB_NO_GUEST}),
    "<slug:ws>/inbox/<uuid:pk>/": Row(lambda t: f"{W}/inbox/{t.feedback.pk}/", {"GET": WEB_NO_GUEST}, htmx=True),
    "<slug:ws>/inbox/<uuid:pk>/<slug:action>/": Row(
        lambda t: f"{W}/inbox/{t.feedback.pk}/dismiss/", {"POST": "L 404 403 403 403 403 200 200 L L"}, htmx=True
    ),
    "<slug:ws>/customers/<uuid:pk>/": Row(lambda t: f"{W}/customers/{t.customer.pk}/", {"GET": WEB_NO_GUEST}),
    "<slug:ws>/reports/": Row(f"{W}/reports/", {"GET": WEB_MEMBERS}),
    "<slug:ws>/<pkey:key>/backlog/": Row(f"{P}/backlog/", {"GET": WEB_MEMBERS}),
    "<slug:ws>/<pkey:key>/backlog/items/": Row(
        f"{P}/backlog/items/",
        {"POST": "L 404 403 403 200 200 200 200 L L"},
        body={"title": "New", "kind": "story", "position": "bottom", "estimate": ""},
    ),
    "<slug:ws>/<pkey:key>/backlog/move/": Row(
        f"{P}/backlog/move/",
        {"POST": "L 404 403 403 200 200 200 200 L L"},
        body=lambda t: {"item": str(t.second_item.pk), "position": "top"},
    ),
    "<slug:ws>/<pkey:key>/backlog/rerank/": Row(f"{P}/backlog/rerank/", {"POST": "L 404 403 403 R R R R L L"}),
    "<slug:ws>/<pkey:key>/items/<int:number>/": Row(f"{P}/items/1/", {"GET": WEB_MEMBERS}),
    "<slug:ws>/<pkey:key>/items/<int:number>/edit/": Row(
        f"{P}/items/1/edit/", {"POST": "L 404 403 403 R R R R L L"}, body=item_form
    ),
    "<slug:ws>/<pkey:key>/items/<int:number>/quick/": Row(
        f"{P}/items/1/quick/",
        {"POST": "L 404 403 403 200 200 200 200 L L"},
        body=lambda t: {"version": t.item.version, "status": "ready"},
    ),
    "<slug:ws>/<pkey:key>/items/<int:number>/comments/": Row(
        f"{P}/items/1/comments/", {"POST": "L 404 403 R R R R R L L"}, body={"body": "Agreed"}
    ),
    "<slug:ws>/<pkey:key>/planning/": Row(f"{P}/planning/", {"GET": WEB_MEMBERS}),
    "<slug:ws>/<pkey:key>/sprints/new/": Row(f"{P}/sprints/new/", {"POST": "L 404 403 403 403 R R R L L"}),
    "<slug:ws>/<pkey:key>/sprints/<int:number>/edit/": Row(
        f"{P}/sprints/2/edit/", {"POST": "L 404 403 403 403 R R R L L"}, body=sprint_form
    ),
    "<slug:ws>/<pkey:key>/sprints/<int:number>/plan/": Row(
        f"{P}/sprints/2/plan/",
        {"POST": "L 404 403 403 403 200 200 200 L L"},
        body=lambda t: {"item": str(t.second_item.pk), "op": "add"},
    ),
    "<slug:ws>/<pkey:key>/sprints/<int:number>/totals/": Row(f"{P}/sprints/2/totals/", {"GET": WEB_MEMBERS}),
    "<slug:ws>/<pkey:key>/sprints/<int:number>/start/": Row(
        f"{P}/sprints/2/start/", {"POST": "L 404 403 403 403 R R R L L"}, before=close_active
    ),
    "<slug:ws>/<pkey:key>/sprints/<int:number>/close/": Row(
        f"{P}/sprints/1/close/", {"POST": "L 404 403 403 403 R R R L L"}, body={"carry_over_to": ""}
    ),
    # Guests see no customer data, and the review is made of it.
    "<slug:ws>/<pkey:key>/sprints/<int:number>/review/": Row(f"{P}/sprints/1/review/", {"GET": WEB_NO_GUEST}),
    "<slug:ws>/<pkey:key>/sprints/<int:number>/review/feedback/": Row(
        f"{P}/sprints/1/review/feedback/",
        {"POST": "L 404 403 R R R R R L L"},
        body={"body": "Love it", "customer_name": "Bo", "customer_email": "bo@example.com"},
    ),
    "<slug:ws>/<pkey:key>/board/": Row(f"{P}/board/", {"GET": WEB_MEMBERS}),
    # --- API ----------------------------------------------------------------------------
    "api/v1/schema/": Row("/api/v1/schema/", {"GET": "200 200 200 200 200 200 200 200 200 200"}),
    "api/v1/docs/": Row("/api/v1/docs/", {"GET": "200 200 200 200 200 200 200 200 200 200"}),
    "^api/v1/(?P<rest>.*)$": Row("/api/v1/nothing-here/", {"GET": "404 404 404 404 404 404 404 404 404 404"}),
    "api/v1/workspaces/": Row("/api/v1/workspaces/", {"GET": "401 200 200 200 200 200 200 200 200 200"}),
    "api/v1/workspaces/<slug:ws>/": Row(f"{A}/", {"GET": API_MEMBERS}),
    "api/v1/workspaces/<slug:ws>/members/": Row(f"{A}/members/", {"GET": API_MEMBERS}),
    "api/v1/workspaces/<slug:ws>/projects/": Row(
        f"{A}/projects/",
        {"GET": API_MEMBERS, "POST": "401 404 403 403 403 403 403 201 403 201"},
        body={"key": "NEWP", "name": "New project"},
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/": Row(
        f"{AP}/", {"GET": API_MEMBERS, "PATCH": API_TRIAGE}, body={"name": "Shop two"}
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/items/": Row(
        f"{AP}/items/", {"GET": API_MEMBERS, "POST": "401 404 403 403 201 201 201 201 403 201"}, body={"title": "New"}
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/items/export.csv": Row(
        f"{AP}/items/export.csv", {"GET": API_MEMBERS}
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/items/bulk/": Row(
        f"{AP}/items/bulk/",
        {"POST": API_EDIT},
        body={"items": [{"source": "jira", "external_id": "B-1", "title": "Bulk"}]},
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/items/by-external/<seg:source>/<seg:external_id>/": Row(
        f"{AP}/items/by-external/jira/SHARED-1/", {"GET": API_MEMBERS, "PUT": API_EDIT}, body={"title": "Checkout 2"}
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/items/<int:number>/": Row(
        f"{AP}/items/2/",
        {
            "GET": API_MEMBERS,
            "PATCH": API_EDIT,
            "PUT": API_EDIT,
            "DELETE": "401 404 403 403 204 204 204 204 403 204",
        },
        body={"title": "Gift cards 2"},
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/items/<int:number>/move/": Row(
        f"{AP}/items/2/move/", {"POST": API_EDIT}, body={"position": "top"}
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/items/<int:number>/comments/": Row(
        f"{AP}/items/1/comments/",
        {"GET": API_MEMBERS, "POST": "401 404 403 201 201 201 201 201 403 201"},
        body={"body": "Agreed"},
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/sprints/": Row(
        f"{AP}/sprints/",
        {"GET": API_MEMBERS, "POST": "401 404 403 403 403 201 201 201 403 201"},
        body={"name": "Sprint 3"},
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/sprints/<int:number>/": Row(
        f"{AP}/sprints/2/",
        {"GET": API_MEMBERS, "PATCH": "401 404 403 403 403 200 200 200 403 200"},
        body={"goal": "Ship"},
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/sprints/<int:number>/start/": Row(
        f"{AP}/sprints/2/start/", {"POST": "401 404 403 403 403 200 200 200 403 200"}, before=close_active
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/sprints/<int:number>/close/": Row(
        f"{AP}/sprints/1/close/", {"POST": "401 404 403 403 403 200 200 200 403 200"}, body={}
    ),
    "api/v1/workspaces/<slug:ws>/projects/<pkey:key>/sprints/<int:number>/review/": Row(
        f"{AP}/sprints/1/review/", {"GET": API_NO_GUEST}
    ),
    "api/v1/workspaces/<slug:ws>/customers/": Row(
        f"{A}/customers/",
        {"GET": API_NO_GUEST, "POST": "401 404 403 403 403 403 201 201 403 201"},
        body={"name": "New customer"},
    ),
    "api/v1/workspaces/<slug:ws>/customers/by-external/<seg:source>/<seg:external_id>/": Row(
        f"{A}/customers/by-external/crm/SHARED-C/", {"GET": API_NO_GUEST, "PUT": API_TRIAGE}, body={"name": "Ada 2"}
    ),
    "api/v1/workspaces/<slug:ws>/customers/<uuid:pk>/": Row(
        lambda t: f"{A}/customers/{t.customer.pk}/",
        {"GET": API_NO_GUEST, "PATCH": API_TRIAGE},
        body={"tier": "premium"},
    ),
    "api/v1/workspaces/<slug:ws>/feedback/": Row(
        f"{A}/feedback/",
        {"GET": API_NO_GUEST, "POST": "401 404 403 201 201 201 201 201 403 201"},
        body={"body": "Dark mode please"},
    ),
    "api/v1/workspaces/<slug:ws>/feedback/bulk/": Row(
        f"{A}/feedback/bulk/",
        {"POST": API_TRIAGE},
        body={"feedback": [{"source": "desk", "external_id": "B-2", "body": "Bulk"}]},
    ),
    "api/v1/workspaces/<slug:ws>/feedback/by-external/<seg:source>/<seg:external_id>/": Row(
        f"{A}/feedback/by-external/desk/SHARED-F/", {"GET": API_NO_GUEST, "PUT": API_TRIAGE}, body={"body": "Slower"}
    ),
    "api/v1/workspaces/<slug:ws>/feedback/<uuid:pk>/": Row(
        lambda t: f"{A}/feedback/{t.feedback.pk}/",
        {"GET": API_NO_GUEST, "PATCH": API_TRIAGE},
        body={"triage": "accepted"},
    ),
    "api/v1/workspaces/<slug:ws>/feedback/<uuid:pk>/links/": Row(
        lambda t: f"{A}/feedback/{t.feedback.pk}/links/",
        {"GET": API_NO_GUEST, "POST": "401 404 403 403 403 403 201 201 403 201"},
        body={"item": f"{KEY}-2", "quote": "gift"},
    ),
    "api/v1/workspaces/<slug:ws>/feedback/<uuid:pk>/links/<itemkey:item_key>/": Row(
        lambda t: f"{A}/feedback/{t.feedback.pk}/links/{KEY}-1/", {"DELETE": "401 404 403 403 403 403 204 204 403 204"}
    ),
    "api/v1/workspaces/<slug:ws>/links/": Row(f"{A}/links/", {"GET": API_NO_GUEST}),
    "api/v1/workspaces/<slug:ws>/links/by-external/": Row(
        f"{A}/links/by-external/",
        {"PUT": API_TRIAGE},
        body={
            "feedback_source": "desk",
            "feedback_external_id": "SHARED-F",
            "project": KEY,
            "item_source": "jira",
            "item_external_id": "SHARED-1",
            "quote": "slow",
        },
    ),
    "api/v1/workspaces/<slug:ws>/objectives/": Row(
        f"{A}/objectives/",
        {"GET": API_NO_GUEST, "POST": "401 404 403 403 403 403 403 201 403 201"},
        body={"title": "Retention", "kpi": "Churn %", "target": "2.00"},
    ),
    "api/v1/workspaces/<slug:ws>/objectives/<uuid:pk>/": Row(
        lambda t: f"{A}/objectives/{t.objective.pk}/", {"GET": API_NO_GUEST, "PATCH": API_ADMINS}, body={"current": "1"}
    ),
    "api/v1/workspaces/<slug:ws>/webhooks/": Row(
        f"{A}/webhooks/",
        {"GET": API_ADMINS, "POST": "401 404 403 403 403 403 403 201 403 201"},
        body={"url": "http://127.0.0.1:9/hook", "allow_private": True},
    ),
    "api/v1/workspaces/<slug:ws>/webhooks/<uuid:pk>/": Row(
        lambda t: f"{A}/webhooks/{t.webhook.pk}/",
        {"GET": API_ADMINS, "PATCH": API_ADMINS, "DELETE": "401 404 403 403 403 403 403 204 403 204"},
        body={"is_active": False},
    ),
    "api/v1/workspaces/<slug:ws>/tokens/": Row(
        f"{A}/tokens/",
        {"GET": API_MEMBERS, "POST": "401 404 201 201 201 201 201 201 403 201"},
        body={"name": "sync"},
    ),
    # Someone else's token is 404 to a member; the workspace owner and admins manage all.
    "api/v1/workspaces/<slug:ws>/tokens/<uuid:pk>/": Row(
        lambda t: f"{A}/tokens/{t.admin_token.pk}/",
        {"GET": "401 404 404 404 404 404 404 200 200 200", "DELETE": "401 404 404 404 404 404 404 204 403 204"},
    ),
    # --- Background work: imports, settings, webhooks, tokens ---------------------------
    "<slug:ws>/imports/": Row(
        f"{W}/imports/", {"GET": WEB_NO_GUEST, "POST": "L 404 403 403 403 403 R R L L"}, body=upload
    ),
    # POST is Import / Cancel of a preview; on a finished job it only redirects to it.
    "<slug:ws>/imports/<uuid:pk>/": Row(
        lambda t: f"{W}/imports/{t.import_job.pk}/", {"GET": WEB_NO_GUEST, "POST": "L 404 403 403 403 403 R R L L"}
    ),
    "<slug:ws>/<pkey:key>/settings/": Row(
        f"{P}/settings/",
        {"GET": "L 404 403 403 403 403 200 200 L L", "POST": "L 404 403 403 403 403 200 200 L L"},
        body=settings_form,
    ),
    "<slug:ws>/settings/tokens/": Row(
        f"{W}/settings/tokens/",
        {"GET": WEB_MEMBERS, "POST": "L 404 200 200 200 200 200 200 L L"},
        body={"name": "ci", "scope": "read"},
    ),
    "<slug:ws>/settings/tokens/<uuid:pk>/revoke/": Row(
        lambda t: f"{W}/settings/tokens/{t.admin_token.pk}/revoke/", {"POST": "L 404 404 404 404 404 404 404 L L"}
    ),
    "<slug:ws>/settings/webhooks/": Row(
        f"{W}/settings/webhooks/",
        {"GET": "L 404 403 403 403 403 403 200 L L", "POST": "L 404 403 403 403 403 403 200 L L"},
        body={"url": "http://127.0.0.1:9/hook", "events": ["item.created"], "allow_private": "on"},
    ),
    "<slug:ws>/settings/webhooks/<uuid:pk>/": Row(
        lambda t: f"{W}/settings/webhooks/{t.webhook.pk}/", {"GET": "L 404 403 403 403 403 403 200 L L"}
    ),
    "<slug:ws>/settings/webhooks/<uuid:pk>/delete/": Row(
        lambda t: f"{W}/settings/webhooks/{t.webhook.pk}/delete/", {"POST": "L 404 403 403 403 403 403 R L L"}
    ),
    "<slug:ws>/settings/webhooks/<uuid:pk>/deliveries/<uuid:delivery>/redeliver/": Row(
        lambda t: f"{W}/settings/webhooks/{t.webhook.pk}/deliveries/{t.delivery.pk}/redeliver/",
        {"POST": "L 404 403 403 403 403 403 R L L"},
    ),
    "api/v1/workspaces/<slug:ws>/feedback/<uuid:pk>/suggestions/": Row(
        lambda t: f"{A}/feedback/{t.feedback.pk}/suggestions/", {"GET": API_NO_GUEST}
    ),
    "api/v1/workspaces/<slug:ws>/imports/": Row(
        f"{A}/imports/",
        {"GET": API_NO_GUEST, "POST": "401 404 403 403 403 403 202 202 403 202"},
        body=upload,
        multipart=True,
    ),
    "api/v1/workspaces/<slug:ws>/imports/<uuid:pk>/": Row(
        lambda t: f"{A}/imports/{t.import_job.pk}/", {"GET": API_NO_GUEST}
    ),
    # The tenant's job has run: whoever may start it is told it is no preview (400).
    "api/v1/workspaces/<slug:ws>/imports/<uuid:pk>/start/": Row(
        lambda t: f"{A}/imports/{t.import_job.pk}/start/", {"POST": "401 404 403 403 403 403 400 400 403 400"}
    ),
    "api/v1/workspaces/<slug:ws>/webhooks/<uuid:pk>/deliveries/": Row(
        lambda t: f"{A}/webhooks/{t.webhook.pk}/deliveries/", {"GET": API_ADMINS}
    ),
    "api/v1/workspaces/<slug:ws>/webhooks/<uuid:pk>/deliveries/<uuid:delivery_id>/redeliver/": Row(
        lambda t: f"{A}/webhooks/{t.webhook.pk}/deliveries/{t.delivery.pk}/redeliver/",
        {"POST": "401 404 403 403 403 403 403 202 403 202"},
    ),
}


def url_patterns() -> list[str]:
    """Every route of the URL conf as one string; Django's admin counts as one ("admin/")."""
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route == "admin/":
                    found.append(route)
                    continue
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.append(route)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_url_has_a_row_in_the_table():
    routes = url_patterns()
    missing = sorted(set(routes) - set(TABLE))
    assert not missing, f"Add these URLs to the permission matrix: {missing}"
    stale = sorted(set(TABLE) - set(routes))
    assert not stale, f"These rows name URLs that no longer exist: {stale}"


@pytest.mark.parametrize("route", sorted(TABLE))
def test_each_rows_path_resolves_to_its_own_route(route):
    row = TABLE[route]
    if callable(row.path) or route == "admin/":
        return  # checked with real ids in the matrix run
    match = resolve(row.path.split("?")[0])
    assert match.route == route or route.startswith("^"), (row.path, match.route)


def client_for(role: str, t: Tenant, *, api: bool) -> Client:
    if role in ("token_read", "token_write"):
        client = APIClient() if api else Client()
        if api:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {t.secrets[role]}")
        else:
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {t.secrets[role]}"
        return client
    client = APIClient() if api else Client()
    if role != "anonymous":
        client.force_login(t.users[role])
    return client


def answer_of(response: Any) -> str:
    if response.status_code == 302:
        return "L" if response["Location"].startswith("/login/") else "R"
    return str(response.status_code)


def run_row(client: Client, t: Tenant, route: str, row: Row, method: str, *, api: bool) -> str:
    path = row.concrete(t)
    headers = {"HTTP_HX_REQUEST": "true"} if row.htmx else {}
    with transaction.atomic():
        cache.clear()  # throttles and rate limits count per test elsewhere, not here
        if row.before is not None:
            row.before(t)
        call = getattr(client, method.lower())
        if method == "GET":
            response = call(path, **headers)
        elif api:
            response = call(path, row.data(t), format="multipart" if row.multipart else "json", **headers)
        else:
            response = call(path, row.data(t), **headers)
        transaction.set_rollback(True)
    return answer_of(response)


@pytest.mark.parametrize("role", ROLES)
def test_the_permission_matrix(role, tenant):
    """Every URL × method for one role; all mismatches are reported together."""
    index = ROLES.index(role)
    mismatches = []
    asserted = 0
    for route, row in TABLE.items():
        api = route.startswith("api/") or route.startswith("^api/")
        client = client_for(role, tenant, api=api)
        for method, line in row.methods.items():
            expected = line.split()[index]
            got = run_row(client, tenant, route, row, method, api=api)
            asserted += 1
            if got != expected:
                mismatches.append(f"{method} {row.concrete(tenant)} ({route}): expected {expected}, got {got}")
    assert not mismatches, f"{role}: {len(mismatches)} of {asserted} answers differ:\n" + "\n".join(mismatches)


def test_the_matrix_covers_every_role_and_method():
    cells = sum(len(row.methods) for row in TABLE.values()) * len(ROLES)
    assert all(len(line.split()) == len(ROLES) for row in TABLE.values() for line in row.methods.values())
    assert cells >= 800
