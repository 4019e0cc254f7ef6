"""Imports, suggestions and webhook delivery logs over the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import BASE
from tests.bg_helpers import webhook
from tracker import models as m
from tracker.services.backlog import item_create
from tracker.services.feedback import feedback_create
from tracker.services.imports import import_start
from tracker.services.similarity import items_index_by_id

FEEDBACK_CSV = b"""\
Review,E-mail,Customer,NPS,ID
"Search is broken, please fix",ann@example.com,Ann,3,r1
Love the dark mode,bob@example.com,Bob,10,r2
Slow to load,cid@example.com,Cid,11,r3
"""
JIRA_CSV = b"""\
Summary,Issue key,Issue Type,Status,Story Points
Checkout fails on Safari,SHOP-101,Bug,Done,3
"""
IMPORTS = f"{BASE}/imports/"


def upload(client, data, *, name="reviews.csv", **fields):
    return client.post(IMPORTS, {"file": SimpleUploadedFile(name, data), **fields}, format="multipart")


# --- Imports ----------------------------------------------------------------------------


def test_an_upload_is_accepted_with_202_and_its_report_read_back(po_api, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(po_api, FEEDBACK_CSV, kind="feedback", source="appstore")
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["source"], body["filename"], body["project"]) == (
        "feedback",
        "appstore",
        "reviews.csv",
        None,
    )
    assert body["url"].endswith(f"/{workspace.slug}/imports/{body['id']}/")
    report = po_api.get(f"{IMPORTS}{body['id']}/").json()
    assert (report["status"], report["rows_total"], report["rows_done"], report["progress"]) == ("done", 3, 3, 1.0)
    assert (report["created"], report["updated"], report["skipped"], report["error_count"]) == (2, 0, 0, 1)
    assert report["errors"] == [{"line": 4, "reason": "NPS must be a whole number from 0 to 10, not 11"}]
    listed = po_api.get(IMPORTS).json()["results"]
    assert [j["id"] for j in listed] == [body["id"]]


def test_a_refused_file_is_a_field_error_and_nothing_is_written(po_api):
    response = upload(po_api, b"\x89PNG\r\n\x1a\n\x00\x00", name="logo.png", kind="feedback")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and "not a CSV or JSON" in body["fields"]["file"][0]
    assert not m.ImportJob.objects.exists() and not m.ImportChunk.objects.exists()


def test_bad_input_is_a_field_error(po_api):
    assert upload(po_api, FEEDBACK_CSV, kind="tickets").json()["fields"].keys() == {"kind"}
    assert "file" in po_api.post(IMPORTS, {"kind": "feedback"}, format="multipart").json()["fields"]
    response = upload(po_api, JIRA_CSV, name="jira.csv", kind="backlog")
    assert response.status_code == 400 and "project" in response.json()["fields"]
    assert not m.ImportJob.objects.exists()


def test_a_backlog_import_needs_edit_rights_on_the_project(
    developer_api, stakeholder_api, project, django_capture_on_commit_callbacks
):
    assert upload(stakeholder_api, JIRA_CSV, name="jira.csv", kind="backlog", project="SHOP").status_code == 403
    assert upload(developer_api, FEEDBACK_CSV, kind="feedback").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(developer_api, JIRA_CSV, name="jira.csv", kind="backlog", project="SHOP")
    assert response.status_code == 202 and response.json()["project"] == "SHOP"
    assert m.BacklogItem.objects.filter(project=project, title="Checkout fails on Safari").exists()


def test_read_tokens_guests_and_foreign_workspaces_cannot_import(read_api, guest_api, foreign, po_api, project):
    assert upload(read_api, FEEDBACK_CSV, kind="feedback").status_code == 403
    assert upload(guest_api, FEEDBACK_CSV, kind="feedback").status_code == 403
    assert guest_api.get(IMPORTS).status_code == 403
    response = upload(po_api, JIRA_CSV, name="jira.csv", kind="backlog", project="OPS")  # another workspace's key
    assert response.status_code == 404
    job = import_start(
        workspace=foreign["project"].workspace, actor=None, kind="feedback", filename="x.csv", data=b"text\nHi\n"
    )
    assert po_api.get(f"{IMPORTS}{job.pk}/").status_code == 404
    assert po_api.get(IMPORTS).json()["results"] == []
    assert not m.ImportJob.objects.filter(workspace=project.workspace).exists()


@pytest.mark.parametrize("size", [2, 20])
def test_the_import_list_runs_a_fixed_number_of_queries(po_api, workspace, size):
    for n in range(size):
        import_start(workspace=workspace, actor=None, kind="feedback", filename=f"f{n}.csv", data=b"text\nHi\n")
    po_api.get(IMPORTS)  # warm up: the token's last use is recorded once a minute
    with CaptureQueriesContext(connection) as ctx:
        assert po_api.get(IMPORTS, {"page_size": 100}).status_code == 200
    # token with its workspace and role (1); jobs with projects (1)
    assert len(ctx.captured_queries) == 2


# --- Suggestions ------------------------------------------------------------------------


@pytest.fixture
def suggested(workspace, project, foreign, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        m.BacklogItem.objects.filter(pk=foreign["item"].pk).update(title="Google login fails")
        items_index_by_id([foreign["item"].pk])
        feedback_create(workspace=foreign["project"].workspace, actor=None, body="Google login fails at sign in")
        item = item_create(project=project, actor=None, title="Google sign in fails")
        twin = feedback_create(workspace=workspace, actor=None, body="Login fails with Google sign in every time")
        feedback_create(workspace=workspace, actor=None, body="Please add a dark mode for night use")
        feedback_create(workspace=workspace, actor=None, body="Export my reports to Excel")
        new = feedback_create(workspace=workspace, actor=None, body="Google login does not work when I sign in")
    return {"new": new, "twin": twin, "item": item}


def test_suggestions_list_duplicates_and_items_of_this_workspace_only(po_api, suggested):
    response = po_api.get(f"{BASE}/feedback/{suggested['new'].pk}/suggestions/")
    assert response.status_code == 200
    body = response.json()
    assert body["duplicates"][0]["feedback"] == str(suggested["twin"].pk)
    assert body["items"][0] == {
        "item": "SHOP-1",
        "item_id": str(suggested["item"].pk),
        "score": body["items"][0]["score"],
        "title": "Google sign in fails",
        "status": "backlog",
    }
    assert all(0 < s["score"] <= 1 for s in body["duplicates"] + body["items"])
    assert all(not s["item"].startswith("OPS-") for s in body["items"])
    foreign_ids = set(m.Feedback.objects.exclude(workspace=suggested["new"].workspace).values_list("pk", flat=True))
    assert not {s["feedback"] for s in body["duplicates"]} & {str(pk) for pk in foreign_ids}


def test_suggestions_of_feedback_in_another_workspace_are_not_found(po_api, foreign, guest_api, suggested):
    assert po_api.get(f"{BASE}/feedback/{foreign['feedback'].pk}/suggestions/").status_code == 404
    assert guest_api.get(f"{BASE}/feedback/{suggested['new'].pk}/suggestions/").status_code == 403


# --- Webhook deliveries ----------------------------------------------------------------


def deliveries(hook, n):
    return [
        m.WebhookDelivery.objects.create(
            webhook=hook, event="item.created", payload={"n": i}, status=m.DeliveryStatus.FAILED, attempts=3
        )
        for i in range(n)
    ]


def test_an_admin_reads_the_delivery_log_and_redelivers(admin_api, workspace):
    hook = webhook(workspace, "https://hooks.example.com/in")
    (old,) = deliveries(hook, 1)
    log = admin_api.get(f"{BASE}/webhooks/{hook.pk}/deliveries/").json()["results"]
    assert [(d["id"], d["event"], d["status"], d["attempts"]) for d in log] == [
        (str(old.pk), "item.created", "failed", 3)
    ]
    response = admin_api.post(f"{BASE}/webhooks/{hook.pk}/deliveries/{old.pk}/redeliver/")
    assert response.status_code == 202
    copy = m.WebhookDelivery.objects.get(pk=response.json()["id"])
    assert (copy.event, copy.payload, copy.webhook_id) == (old.event, old.payload, hook.pk)


def test_only_admins_see_deliveries_and_only_of_their_workspace(po_api, admin_api, workspace, foreign):
    hook = webhook(workspace, "https://hooks.example.com/in")
    (delivery,) = deliveries(hook, 1)
    assert po_api.get(f"{BASE}/webhooks/{hook.pk}/deliveries/").status_code == 403
    assert po_api.post(f"{BASE}/webhooks/{hook.pk}/deliveries/{delivery.pk}/redeliver/").status_code == 403
    other = webhook(foreign["project"].workspace, "https://hooks.example.com/other")
    (theirs,) = deliveries(other, 1)
    assert admin_api.get(f"{BASE}/webhooks/{other.pk}/deliveries/").status_code == 404
    assert admin_api.post(f"{BASE}/webhooks/{hook.pk}/deliveries/{theirs.pk}/redeliver/").status_code == 404
    assert m.WebhookDelivery.objects.count() == 2


@pytest.mark.parametrize("size", [2, 30])
def test_the_delivery_log_runs_a_fixed_number_of_queries(admin_api, workspace, size):
    hook = webhook(workspace, "https://hooks.example.com/in")
    deliveries(hook, size)
    url = f"{BASE}/webhooks/{hook.pk}/deliveries/"
    admin_api.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert admin_api.get(url, {"page_size": 100}).status_code == 200
    # token with its workspace and role (1); webhook (1); deliveries (1)
    assert len(ctx.captured_queries) == 3


def test_the_new_endpoints_are_in_the_schema(db):
    from rest_framework.test import APIClient

    paths = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert {
        "/api/v1/workspaces/{ws}/imports/",
        "/api/v1/workspaces/{ws}/imports/{id}/",
        "/api/v1/workspaces/{ws}/feedback/{id}/suggestions/",
        "/api/v1/workspaces/{ws}/webhooks/{id}/deliveries/",
        "/api/v1/workspaces/{ws}/webhooks/{id}/deliveries/{delivery_id}/redeliver/",
    } <= set(paths)
    upload_body = paths["/api/v1/workspaces/{ws}/imports/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_body


def test_an_upload_retried_with_an_idempotency_key_is_imported_once(po_api, django_capture_on_commit_callbacks):
    headers = {"Idempotency-Key": "upload-1"}
    first = po_api.post(
        IMPORTS,
        {"file": SimpleUploadedFile("r.csv", FEEDBACK_CSV), "kind": "feedback"},
        format="multipart",
        headers=headers,
    )
    again = po_api.post(
        IMPORTS,
        {"file": SimpleUploadedFile("r.csv", FEEDBACK_CSV), "kind": "feedback"},
        format="multipart",
        headers=headers,
    )
    assert first.status_code == again.status_code == 202, first.json()
    assert first.json()["id"] == again.json()["id"]
    assert m.ImportJob.objects.count() == 1


def test_the_same_idempotency_key_with_another_file_is_refused(po_api):
    headers = {"Idempotency-Key": "upload-2"}
    first = po_api.post(
        IMPORTS,
        {"file": SimpleUploadedFile("r.csv", FEEDBACK_CSV), "kind": "feedback"},
        format="multipart",
        headers=headers,
    )
    other = po_api.post(
        IMPORTS,
        {"file": SimpleUploadedFile("r.csv", b"text\nOther\n"), "kind": "feedback"},
        format="multipart",
        headers=headers,
    )
    assert (first.status_code, other.status_code) == (202, 422)
    assert m.ImportJob.objects.count() == 1
