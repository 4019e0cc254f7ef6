"""Delta sync: a client pulling with updated_since + cursor ends with exactly the server's state."""

import threading
import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from tests.api.conftest import BASE, ITEMS, client_for
from tracker import models as m
from tracker.services.backlog import item_create


def test_a_pull_holds_back_rows_younger_than_the_settle_window(admin_api, project, owner, settings):
    settings.API_SYNC_SETTLE_SECONDS = 60
    item_create(project=project, actor=owner, title="Just written")
    rows = admin_api.get(ITEMS, {"updated_since": "2000-01-01T00:00:00Z"}).json()["results"]
    assert rows == []


def test_a_row_committed_late_with_an_earlier_stamp_is_not_missed(admin_api, project, owner, settings):
    """A transaction stamps updated_at before it commits: B (stamped t-40) can become visible
    after A (t-60) and C (t-5) were written. The pull serves nothing younger than the window,
    so its position never passes a stamp that could still commit."""
    settings.API_SYNC_SETTLE_SECONDS = 10
    now = timezone.now()
    a = item_create(project=project, actor=owner, title="A")
    c = item_create(project=project, actor=owner, title="C")
    m.BacklogItem.objects.filter(pk=a.pk).update(updated_at=now - timedelta(seconds=60))
    m.BacklogItem.objects.filter(pk=c.pk).update(updated_at=now - timedelta(seconds=5))
    first = admin_api.get(ITEMS, {"updated_since": "2000-01-01T00:00:00Z"}).json()["results"]
    assert [r["title"] for r in first] == ["A"]
    # B commits now, stamped 40 s ago; meanwhile C ages past the window.
    b = item_create(project=project, actor=owner, title="B")
    m.BacklogItem.objects.filter(pk=b.pk).update(updated_at=now - timedelta(seconds=40))
    m.BacklogItem.objects.filter(pk=c.pk).update(updated_at=now - timedelta(seconds=20))
    second = admin_api.get(ITEMS, {"updated_since": first[-1]["updated_at"]}).json()["results"]
    assert [r["title"] for r in second] == ["A", "B", "C"]


def test_updated_since_accepts_any_offset_python_accepts(admin_api, project, owner):
    # PostgreSQL refuses offsets beyond ±15:59; the instant is compared in UTC instead.
    item_create(project=project, actor=owner, title="Old enough")
    response = admin_api.get(ITEMS, {"updated_since": "1443-01-21T22:36:59+20:11"})
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    response = admin_api.get(f"{BASE}/feedback/", {"received_after": "1443-01-21T22:36:59+20:11"})
    assert response.status_code == 200


def test_updated_since_needs_a_time_zone(admin_api, project):
    response = admin_api.get(ITEMS, {"updated_since": "2026-01-01T00:00:00"})
    assert response.status_code == 400
    assert "updated_since" in response.json()["fields"]


@pytest.mark.parametrize(("since", "code"), [("2026-01-21T22:36:59+20:11", 200), ("0001-01-01T00:00:00+23:00", 400)])
def test_updated_since_with_an_unusual_offset_is_compared_in_utc(admin_api, project, since, code):
    response = admin_api.get(ITEMS, {"updated_since": since})
    assert response.status_code == code


def test_updated_since_returns_changes_in_updated_order(admin_api, project, owner):
    first = item_create(project=project, actor=owner, title="First")
    item_create(project=project, actor=owner, title="Second")
    admin_api.patch(f"{ITEMS}{first.number}/", {"title": "First, edited"}, format="json")
    rows = admin_api.get(ITEMS, {"updated_since": "2000-01-01T00:00:00Z"}).json()["results"]
    assert [r["title"] for r in rows] == ["Second", "First, edited"]


class Puller:
    """A sync client: pulls pages with updated_since + cursor, keeps the newest of each item."""

    def __init__(self, base: str, secret: str) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {secret}"
        self.base = base
        self.since = "2000-01-01T00:00:00Z"
        self.state: dict[str, dict] = {}

    def pull(self) -> None:
        url = f"{self.base}{ITEMS}?updated_since={self.since}&page_size=7"
        last = None
        while url:
            response = self.session.get(url, timeout=10)
            assert response.status_code == 200, response.text
            body = response.json()
            for row in body["results"]:
                known = self.state.get(row["id"])
                if known is None or known["version"] <= row["version"]:
                    self.state[row["id"]] = row
                last = row
            url = body["next"]
        if last is not None:
            self.since = last["updated_at"].replace("+", "%2B")


@pytest.mark.django_db(transaction=True)
def test_a_client_pulling_while_another_writes_ends_with_the_servers_state(live_server, settings):
    from tests import factories as f

    # Longer than any write here takes, even on a busy CI machine (see tracker.api.base.settle_horizon).
    settings.API_SYNC_SETTLE_SECONDS = 1.0
    workspace = f.WorkspaceFactory(slug="acme-test")
    project = f.ProjectFactory(workspace=workspace, key="SHOP")
    writer_user, reader_user = f.UserFactory(username="writer"), f.UserFactory(username="reader")
    f.MembershipFactory(workspace=workspace, user=writer_user, role=m.WorkspaceRole.OWNER)
    f.MembershipFactory(workspace=workspace, user=reader_user, role=m.WorkspaceRole.MEMBER)
    writer_secret = client_for(writer_user, workspace)._credentials["HTTP_AUTHORIZATION"].split()[1]
    reader_secret = client_for(reader_user, workspace, read_only=True)._credentials["HTTP_AUTHORIZATION"].split()[1]
    base = live_server.url
    errors: list[str] = []

    def write() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {writer_secret}"
        for n in range(1, 25):
            r = session.post(f"{base}{ITEMS}", json={"title": f"Item {n}"}, timeout=10)
            if r.status_code != 201:
                errors.append(r.text)
            if n % 3 == 0:
                session.patch(f"{base}{ITEMS}{n - 1}/", json={"status": "ready"}, timeout=10)
            if n % 5 == 0:
                session.delete(f"{base}{ITEMS}{n - 2}/", timeout=10)
            if n % 8 == 0:
                entries = [{"source": "jira", "external_id": f"J-{k}", "title": f"Jira {k} v{n}"} for k in range(4)]
                session.post(f"{base}{ITEMS}bulk/", json={"items": entries}, timeout=10)
            time.sleep(0.02)

    puller = Puller(base, reader_secret)
    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        puller.pull()
        time.sleep(0.05)
    writer.join()
    time.sleep(1.3)  # past the settle window: everything written is now servable
    puller.pull()

    assert errors == []
    server = {
        str(i.pk): (i.version, i.deleted_at is not None, i.title) for i in m.BacklogItem.objects.filter(project=project)
    }
    client = {pk: (row["version"], row["deleted"], row["title"]) for pk, row in puller.state.items()}
    assert client == server
    assert len(server) == 28
