"""One write path per entity: whichever door an item or a piece of feedback comes in by,
it leaves the same footprint (row, version, history, change feed, webhook delivery,
similarity index, suggestions, customer), and nothing outside the write cores writes the
core tables."""

import ast
import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests import factories as f
from tests.api.conftest import client_for
from tests.bg_helpers import consume, webhook
from tracker import models as m
from tracker.services.imports import import_run, import_start

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Checkout fails on Safari"
BODY = "Checkout fails on Safari every time I pay"


@pytest.fixture
def hook(workspace):
    return webhook(workspace, "https://hooks.example.com/loopwise")


@pytest.fixture
def api(owner, workspace) -> APIClient:
    return client_for(owner, workspace)


def base(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.slug}"


# --- Items -----------------------------------------------------------------------------------


def item_by_web_form(client, api, owner, workspace, project):
    client.force_login(owner)
    response = client.post(
        f"/{workspace.slug}/{project.key}/backlog/items/", {"title": TITLE, "kind": "bug", "position": "bottom"}
    )
    assert response.status_code in (200, 302), response.content[:300]


def item_by_api(client, api, owner, workspace, project):
    url = f"{base(workspace)}/projects/{project.key}/items/"
    response = api.post(url, {"title": TITLE, "kind": "bug"}, format="json")
    assert response.status_code == 201, response.content


def item_by_external_id(client, api, owner, workspace, project):
    url = f"{base(workspace)}/projects/{project.key}/items/by-external/jira/SHOP-7/"
    response = api.put(url, {"title": TITLE, "kind": "bug"}, format="json")
    assert response.status_code == 201, response.content


def item_by_bulk(client, api, owner, workspace, project):
    entry = {"source": "jira", "external_id": "SHOP-7", "title": TITLE, "kind": "bug"}
    response = api.post(f"{base(workspace)}/projects/{project.key}/items/bulk/", {"items": [entry]}, format="json")
    assert response.status_code == 200, response.content


def item_by_import(client, api, owner, workspace, project):
    data = f"Summary,Issue key,Issue id,Issue Type,Status\n{TITLE},SHOP-7,10007,Bug,To Do\n".encode()
    job = import_start(
        workspace=workspace, actor=owner, kind="backlog", filename="jira.csv", data=data, project=project
    )
    assert import_run(job.pk).created == 1


ITEM_DOORS = [item_by_web_form, item_by_api, item_by_external_id, item_by_bulk, item_by_import]


def item_footprint(workspace, project) -> dict:
    consume(workspace)
    (item,) = m.BacklogItem.objects.filter(project=project)
    return {
        "row": (item.number, item.title, item.kind, item.status, item.version, item.done_at),
        "history": sorted(m.History.objects.filter(item=item).values_list("action", "field", "new")),
        "changes": list(m.Change.objects.filter(object_id=item.pk).values_list("kind", "op", "version")),
        "deliveries": sorted(m.WebhookDelivery.objects.values_list("event", flat=True)),
        "indexed": m.TermPosting.objects.filter(item=item).exists(),
    }


@pytest.mark.parametrize("door", ITEM_DOORS, ids=lambda d: d.__name__)
def test_an_item_leaves_the_same_footprint_through_every_door(door, client, api, owner, workspace, project, hook):
    door(client, api, owner, workspace, project)
    assert item_footprint(workspace, project) == {
        "row": (1, TITLE, m.ItemKind.BUG, m.ItemStatus.BACKLOG, 1, None),
        "history": [(m.HistoryAction.CREATED, "status", "backlog")],
        "changes": [(m.ChangeKind.ITEM, m.ChangeOp.CREATE, 1)],
        "deliveries": ["item.created"],
        "indexed": True,
    }


def item_done_by_api(api, workspace, project, item):
    url = f"{base(workspace)}/projects/{project.key}/items/{item.number}/"
    assert api.patch(url, {"status": "done"}, format="json").status_code == 200


def item_done_by_bulk(api, workspace, project, item):
    entry = {"source": "jira", "external_id": "SHOP-7", "status": "done"}
    url = f"{base(workspace)}/projects/{project.key}/items/bulk/"
    assert api.post(url, {"items": [entry]}, format="json").status_code == 200


def item_done_by_import(api, workspace, project, item):
    data = f"Summary,Issue key,Issue id,Issue Type,Status\n{TITLE},SHOP-7,10007,Bug,Done\n".encode()
    job = import_start(workspace=workspace, actor=None, kind="backlog", filename="jira.csv", data=data, project=project)
    assert import_run(job.pk).updated == 1


@pytest.mark.parametrize("door", [item_done_by_api, item_done_by_bulk, item_done_by_import], ids=lambda d: d.__name__)
def test_finishing_an_item_stamps_done_and_bumps_the_version_through_every_door(door, api, workspace, project, hook):
    item = f.ItemFactory(project=project, number=1, title=TITLE, kind="bug", source="jira", external_id="SHOP-7")
    door(api, workspace, project, item)
    consume(workspace)
    item.refresh_from_db()
    assert (item.status, item.version, item.done_at is not None) == (m.ItemStatus.DONE, 2, True)
    assert list(m.Change.objects.filter(object_id=item.pk).values_list("op", "version")) == [(m.ChangeOp.UPDATE, 2)]
    assert list(m.WebhookDelivery.objects.values_list("event", flat=True)) == ["item.updated"]


# --- Feedback --------------------------------------------------------------------------------


def feedback_by_public_form(client, api, workspace):
    response = client.post(
        f"/{workspace.slug}/feedback/new/", {"name": "Ann", "email": "ann@example.com", "body": BODY, "website": ""}
    )
    assert response.status_code == 200 and b"Thank you" in response.content


def feedback_by_api(client, api, workspace):
    body = {"body": BODY, "customer_email": "ann@example.com", "customer_name": "Ann"}
    response = api.post(f"{base(workspace)}/feedback/", body, format="json")
    assert response.status_code == 201, response.content


def feedback_by_external_id(client, api, workspace):
    body = {"body": BODY, "customer_email": "ann@example.com", "customer_name": "Ann"}
    response = api.put(f"{base(workspace)}/feedback/by-external/desk/T-1/", body, format="json")
    assert response.status_code == 201, response.content


def feedback_by_bulk(client, api, workspace):
    entry = {"source": "desk", "external_id": "T-1", "body": BODY, "customer_email": "ann@example.com"}
    response = api.post(f"{base(workspace)}/feedback/bulk/", {"feedback": [entry]}, format="json")
    assert response.status_code == 200, response.content


def feedback_by_import(client, api, workspace):
    data = json.dumps([{"text": BODY, "email": "ann@example.com", "name": "Ann", "id": "T-1"}]).encode()
    job = import_start(workspace=workspace, actor=None, kind="feedback", filename="f.json", data=data, source="desk")
    assert import_run(job.pk).created == 1


FEEDBACK_DOORS = [
    feedback_by_public_form,
    feedback_by_api,
    feedback_by_external_id,
    feedback_by_bulk,
    feedback_by_import,
]


@pytest.mark.parametrize("door", FEEDBACK_DOORS, ids=lambda d: d.__name__)
def test_feedback_leaves_the_same_footprint_through_every_door(door, client, api, workspace, project, hook):
    from tracker.services.backlog import item_create

    ann = f.CustomerFactory(workspace=workspace, name="Ann", email="ann@example.com")
    item = item_create(project=project, actor=None, title="Checkout fails on Safari when paying")
    consume(workspace)
    m.WebhookDelivery.objects.all().delete()
    door(client, api, workspace)
    consume(workspace)
    (feedback,) = m.Feedback.objects.filter(workspace=workspace)
    assert (feedback.body, feedback.version, feedback.customer_id) == (BODY, 1, ann.pk)
    assert m.Customer.objects.filter(workspace=workspace).count() == 1
    assert list(m.Change.objects.filter(object_id=feedback.pk).values_list("kind", "op")) == [
        (m.ChangeKind.FEEDBACK, m.ChangeOp.CREATE)
    ]
    assert list(m.WebhookDelivery.objects.values_list("event", flat=True)) == ["feedback.created"]
    assert m.TermPosting.objects.filter(feedback=feedback).exists()
    assert m.Suggestion.objects.filter(feedback=feedback, item=item).exists()


# --- Nothing else writes the core tables -----------------------------------------------------

CORE_MODELS = {"BacklogItem", "Feedback", "FeedbackLink", "Customer", "Sprint", "Comment", "Change"}
WRITES = {"create", "update", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create", "save"}
CORE_MODULES = (
    "tracker/services/backlog/",
    "tracker/services/feedback/",
    "tracker/services/customers.py",
    "tracker/services/sprints.py",
    "tracker/services/comments.py",
    "tracker/feed/",
)


def _models_in(node: ast.AST) -> set[str]:
    found = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and n.id in CORE_MODELS:
            found.add(n.id)
        elif isinstance(n, ast.Attribute) and n.attr in CORE_MODELS:
            found.add(n.attr)
    return found


def orm_writes_outside_the_cores(root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted((root / "tracker").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if "/migrations/" in relative or relative.startswith(CORE_MODULES):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in WRITES and ".objects" in ast.unparse(func.value):
                models = _models_in(func.value)
            elif isinstance(func, ast.Name) and func.id in ("rows_insert", "bulk_set") and node.args:
                models = _models_in(node.args[0])
            else:
                continue
            if models:
                found.append(f"{relative}:{node.lineno} {func.attr if isinstance(func, ast.Attribute) else func.id}")
    return found


def test_no_module_outside_the_write_cores_writes_a_core_table():
    assert orm_writes_outside_the_cores() == []


def test_the_write_scan_sees_each_shape_of_write_it_looks_for(tmp_path):
    (tmp_path / "tracker" / "web").mkdir(parents=True)
    (tmp_path / "tracker" / "services" / "backlog").mkdir(parents=True)
    writes = (
        "from tracker import models as m\n"
        "m.BacklogItem.objects.filter(pk=1).update(title='x')\n"
        "Feedback.objects.create(body='x')\n"
        "rows_insert(Customer, [])\n"
        "Sprint.objects.all().first()\n"
    )
    (tmp_path / "tracker" / "web" / "probe.py").write_text(writes)
    (tmp_path / "tracker" / "services" / "backlog" / "probe.py").write_text(writes)
    assert orm_writes_outside_the_cores(tmp_path) == [
        "tracker/web/probe.py:2 update",
        "tracker/web/probe.py:3 create",
        "tracker/web/probe.py:4 rows_insert",
    ]


# --- Links -----------------------------------------------------------------------------------


def link_by_web_inbox(client, api, owner, workspace, feedback, item):
    client.force_login(owner)
    response = client.post(
        f"/{workspace.slug}/inbox/{feedback.pk}/link/", {"item": str(item.pk), "quote": "pay"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200, response.content[:300]


def link_by_api(client, api, owner, workspace, feedback, item):
    url = f"{base(workspace)}/feedback/{feedback.pk}/links/"
    response = api.post(url, {"item": "SHOP-1", "quote": "pay"}, format="json")
    assert response.status_code in (200, 201), response.content


def link_by_external_ids(client, api, owner, workspace, feedback, item):
    body = {
        "feedback_source": "desk", "feedback_external_id": "T-1", "project": "SHOP",
        "item_source": "jira", "item_external_id": "SHOP-7", "quote": "pay",
    }  # fmt: skip
    response = api.put(f"{base(workspace)}/links/by-external/", body, format="json")
    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("door", [link_by_web_inbox, link_by_api, link_by_external_ids], ids=lambda d: d.__name__)
def test_a_link_leaves_the_same_footprint_through_every_door(door, client, api, owner, workspace, project):
    customer = f.CustomerFactory(workspace=workspace, segment=m.Segment.END_CUSTOMER)
    feedback = f.FeedbackFactory(workspace=workspace, customer=customer, source="desk", external_id="T-1", body=BODY)
    item = f.ItemFactory(project=project, number=1, title=TITLE, source="jira", external_id="SHOP-7")
    door(client, api, owner, workspace, feedback, item)
    link = m.FeedbackLink.objects.get()
    item.refresh_from_db()
    feedback.refresh_from_db()
    assert (link.feedback_id, link.item_id, link.quote) == (feedback.pk, item.pk, "pay")
    assert (item.feedback_count, item.customer_count, item.version) == (1, 1, 1)  # impact moved, not the version
    assert feedback.triage == m.TriageState.ACCEPTED
    linked = m.History.objects.filter(action=m.HistoryAction.LINKED)
    assert set(linked.values_list("item_id", "feedback_id")) == {(item.pk, None), (None, feedback.pk)}
    kinds = sorted(m.Change.objects.values_list("kind", "op"))
    assert (m.ChangeKind.LINK, m.ChangeOp.CREATE) in kinds
    assert (m.ChangeKind.ITEM, m.ChangeOp.UPDATE) in kinds  # the impact, for sync clients


def test_an_upsert_that_names_its_customer_by_e_mail_attributes_existing_feedback(api, workspace):
    ann = f.CustomerFactory(workspace=workspace, name="Ann", email="ann@example.com")
    url = f"{base(workspace)}/feedback/by-external/desk/T-1/"
    assert api.put(url, {"body": BODY}, format="json").status_code == 201
    response = api.put(url, {"customer_email": "ANN@example.com"}, format="json")
    assert (response.status_code, response.json()["customer"]) == (200, str(ann.pk))
    assert m.Customer.objects.filter(workspace=workspace).count() == 1
