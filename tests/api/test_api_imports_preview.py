"""Previewing an import over the API (`dry_run`), then starting it with a status mapping."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.conftest import BASE
from tracker import models as m

IMPORTS = f"{BASE}/imports/"
JIRA = (
    b"Summary,Issue key,Issue id,Issue Type,Status,Status Category,Priority,Created,Resolved\n"
    b"Checkout on Safari,SHOP-1,10001,Bug,UAT,In Progress,High,02/Feb/25 9:00 AM,\n"
    b"Faster search,SHOP-2,10002,Story,Done,Done,Low,01/Feb/25 9:00 AM,03/Feb/25 5:00 PM\n"
)


def upload(client, data, *, name="jira.csv", query="", **fields):
    return client.post(IMPORTS + query, {"file": SimpleUploadedFile(name, data), **fields}, format="multipart")


def test_a_dry_run_answers_the_preview_and_writes_nothing(po_api, project):
    response = upload(po_api, JIRA, query="?dry_run=1", kind="backlog", project="SHOP")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "preview" and body["format"] == "jira_csv" and body["encoding"] == "utf-8"
    preview = body["preview"]
    assert (preview["rows"], preview["creates"], preview["updates"], preview["invalid"]) == (2, 2, 0, 0)
    assert {s["name"]: s["status"] for s in preview["statuses"]} == {"UAT": "in_progress", "Done": "done"}
    assert not m.BacklogItem.objects.filter(project=project).exists()


def test_a_previewed_import_starts_with_the_chosen_status_mapping(po_api, project, django_capture_on_commit_callbacks):
    job = upload(po_api, JIRA, kind="backlog", project="SHOP", dry_run="true").json()
    with django_capture_on_commit_callbacks(execute=True):
        response = po_api.post(f"{IMPORTS}{job['id']}/start/", {"statuses": {"UAT": "in_review"}}, format="json")
    assert response.status_code == 202, response.content
    item = m.BacklogItem.objects.get(project=project, external_id="SHOP-1")
    assert item.status == m.ItemStatus.IN_REVIEW and item.priority == 4
    assert po_api.get(f"{IMPORTS}{job['id']}/").json()["status"] == "done"


def test_a_status_mapping_to_an_unknown_status_is_a_field_error(po_api, project):
    job = upload(po_api, JIRA, kind="backlog", project="SHOP", dry_run="true").json()
    response = po_api.post(f"{IMPORTS}{job['id']}/start/", {"statuses": {"UAT": "shipped"}}, format="json")
    assert response.status_code == 400 and "statuses" in response.json()["fields"]
    assert m.ImportJob.objects.get(pk=job["id"]).status == m.ImportStatus.PREVIEW


def test_a_mapping_sent_with_the_upload_is_applied(po_api, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(po_api, JIRA, kind="backlog", project="SHOP", statuses=json.dumps({"UAT": "ready"}))
    assert response.status_code == 202, response.content
    assert m.BacklogItem.objects.get(project=project, external_id="SHOP-1").status == m.ItemStatus.READY


def test_a_started_import_cannot_be_started_again(po_api, project, django_capture_on_commit_callbacks):
    job = upload(po_api, JIRA, kind="backlog", project="SHOP", dry_run="1").json()
    with django_capture_on_commit_callbacks(execute=True):
        po_api.post(f"{IMPORTS}{job['id']}/start/", {}, format="json")
    response = po_api.post(f"{IMPORTS}{job['id']}/start/", {}, format="json")
    assert response.status_code == 400 and "status" in response.json()["fields"]
    assert m.BacklogItem.objects.filter(project=project).count() == 2


def test_only_those_who_may_import_into_the_project_may_start_its_preview(po_api, stakeholder_api, project):
    job = upload(po_api, JIRA, kind="backlog", project="SHOP", dry_run="1").json()
    assert stakeholder_api.post(f"{IMPORTS}{job['id']}/start/", {}, format="json").status_code == 403
    assert m.ImportJob.objects.get(pk=job["id"]).status == m.ImportStatus.PREVIEW


def test_a_cut_off_file_previews_as_broken_and_cannot_be_started(po_api, project):
    cut = JIRA[: JIRA.index(b"03/Feb")] + b'"unterminated'
    body = upload(po_api, cut, kind="backlog", project="SHOP", dry_run="1").json()
    assert body["status"] == "failed" and body["preview"]["broken"]["line"] == 3
    assert "Nothing was imported" in body["message"]
    response = po_api.post(f"{IMPORTS}{body['id']}/start/", {}, format="json")
    assert response.status_code == 400
    assert not m.BacklogItem.objects.filter(project=project).exists()


def test_an_upload_answers_with_an_estimate_of_its_rows(po_api, project):
    rows = "".join(f"Task {n},SHOP-{n},{n},Task,To Do,To Do,Medium,02/Feb/25 9:00 AM,\n" for n in range(1, 40001))
    data = JIRA.split(b"\n")[0] + b"\n" + rows.encode()
    body = upload(po_api, data, kind="backlog", project="SHOP").json()  # queued: runs after commit
    assert body["status"] == "queued" and body["rows_estimated"] is True
    assert 36000 <= body["rows_total"] <= 44000
