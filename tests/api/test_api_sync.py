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


def test_a_pull_right_after_a_write_serves_it(admin_api, project, owner):
    item_create(project=project, actor=owner, title="Just written")
    rows = admin_api.get(ITEMS, {"updated_since": "2000-01-01T00:00:00Z"}).json()["results"]
    assert [r["title"] for r in rows] == ["Just written"]


def test_the_cursor_of_the_last_page_serves_only_later_changes(admin_api, project, owner):
    item_create(project=project, actor=owner, title="Before")
    first = admin_api.get(ITEMS, {"updated_since": "2000-01-01T00:00:00Z"}).json()
    assert first["next"] is None and first["cursor"]
    assert admin_api.get(ITEMS, {"cursor": first["cursor"]}).json()["results"] == []
    item_create(project=project, actor=owner, title="After")
    rows = admin_api.get(ITEMS, {"cursor": first["cursor"]}).json()["results"]
    assert [r["title"] for r in rows] == ["After"]


def test_a_sprint_close_reaches_a_syncing_client(admin_api, project, owner):
    from tracker.services.backlog import item_update
    from tracker.services.sprints import sprint_add_items, sprint_close, sprint_create, sprint_start

    finished = item_create(project=project, actor=owner, title="Finished", estimate=3)
    unfinished = item_create(project=project, actor=owner, title="Unfinished", estimate=2)
    sprint = sprint_create(project=project, actor=owner, name="S1", capacity=10)
    sprint_add_items(sprint=sprint, items=[finished, unfinished], actor=owner)
    sprint = sprint_start(sprint=sprint, actor=owner)
    item_update(item=m.BacklogItem.objects.get(pk=finished.pk), actor=owner, status="done")
    # Done before done_at had one meaning: the close stamps it.
    m.BacklogItem.objects.filter(pk=finished.pk).update(done_at=None)
    cursor = admin_api.get(ITEMS, {"updated_since": "2000-01-01T00:00:00Z"}).json()["cursor"]
    versions = dict(m.BacklogItem.objects.values_list("title", "version"))
    sprint_close(sprint=sprint, actor=owner)
    rows = admin_api.get(ITEMS, {"cursor": cursor}).json()["results"]
    seen = {r["title"]: (r["version"] > versions[r["title"]], r["sprint"] is None) for r in rows}
    assert seen == {"Finished": (True, False), "Unfinished": (True, True)}
    assert m.BacklogItem.objects.get(pk=finished.pk).done_at is not None


def test_a_cursor_from_before_the_pruned_feed_answers_410(admin_api, project, owner):
    from tracker.feed.prune import feed_prune

    item_create(project=project, actor=owner, title="Old")
    cursor = admin_api.get(ITEMS, {"updated_since": "2000-01-01T00:00:00Z"}).json()["cursor"]
    item_create(project=project, actor=owner, title="Newer")
    m.Change.objects.update(at=timezone.now() - timedelta(days=400))
    feed_prune()
    response = admin_api.get(ITEMS, {"cursor": cursor})
    assert response.status_code == 410
    assert response.json()["code"] == "resync"


def test_a_deleted_item_reaches_the_client_as_a_tombstone(admin_api, project, owner):
    from tracker.services.backlog import item_delete

    item = item_create(project=project, actor=owner, title="Short-lived")
    cursor = admin_api.get(ITEMS, {"updated_since": "2000-01-01T00:00:00Z"}).json()["cursor"]
    item_delete(item=item, actor=owner)
    rows = admin_api.get(ITEMS, {"cursor": cursor}).json()["results"]
    assert [(r["id"], r["deleted"]) for r in rows] == [(str(item.pk), True)]


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
    """A sync client: starts with updated_since, then resumes from the cursor each pull hands
    back; keeps the newest version of each item."""

    def __init__(self, base: str, secret: str) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {secret}"
        self.base = base
        self.cursor: str | None = None
        self.state: dict[str, dict] = {}

    def pull(self) -> None:
        query = f"cursor={self.cursor}" if self.cursor else "updated_since=2000-01-01T00:00:00Z"
        url = f"{self.base}{ITEMS}?{query}&page_size=7"
        while url:
            response = self.session.get(url, timeout=10)
            for _ in range(100):
                # 503 means "retry" (README); SQLite's shared test database answers it to a
                # reader while a long write (the import) holds its lock.
                if response.status_code != 503:
                    break
                time.sleep(0.05)
                response = self.session.get(url, timeout=10)
            assert response.status_code == 200, response.text
            body = response.json()
            for row in body["results"]:
                known = self.state.get(row["id"])
                if known is None or known["version"] <= row["version"] or row["deleted"]:
                    self.state[row["id"]] = row
            self.cursor = body["cursor"]
            url = body["next"]


@pytest.mark.django_db(transaction=True)
def test_a_client_pulling_while_another_writes_ends_with_the_servers_state(live_server):
    from tests import factories as f

    workspace = f.WorkspaceFactory(slug="acme-test")
    project = f.ProjectFactory(workspace=workspace, key="SHOP")
    writer_user, reader_user = f.UserFactory(username="writer"), f.UserFactory(username="reader")
    f.MembershipFactory(workspace=workspace, user=writer_user, role=m.WorkspaceRole.OWNER)
    f.MembershipFactory(workspace=workspace, user=reader_user, role=m.WorkspaceRole.MEMBER)
    writer_secret = client_for(writer_user, workspace)._credentials["HTTP_AUTHORIZATION"].split()[1]
    reader_secret = client_for(reader_user, workspace, read_only=True)._credentials["HTTP_AUTHORIZATION"].split()[1]
    base = live_server.url
    sprints = f"{base}{BASE}/projects/SHOP/sprints/"
    errors: list[str] = []

    def write() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {writer_secret}"
        keys = iter(range(10**6))

        def post(url: str, **kw: object) -> requests.Response:
            return session.post(url, headers={"Idempotency-Key": f"w-{next(keys)}"}, timeout=30, **kw)

        def check(r: requests.Response, *codes: int) -> None:
            for _ in range(100):
                # 503 means "retry, with the same Idempotency-Key" (README); SQLite's shared
                # test database answers it while another request's long write holds its lock.
                if r.status_code != 503:
                    break
                time.sleep(0.05)
                r = session.send(r.request, timeout=30)
            if r.status_code not in codes:
                errors.append(f"{r.request.method} {r.url}: {r.status_code} {r.text}")

        sprint = session.post(sprints, json={"name": "S1", "capacity": 40}, timeout=10).json()["number"]
        for n in range(1, 25):
            check(post(f"{base}{ITEMS}", json={"title": f"Item {n}", "estimate": 1}), 201)
            if n % 3 == 0:
                check(session.patch(f"{base}{ITEMS}{n - 1}/", json={"status": "ready"}, timeout=10), 200)
            if n % 5 == 0:
                check(session.delete(f"{base}{ITEMS}{n - 2}/", timeout=10), 204)
            if n % 8 == 0:
                entries = [{"source": "jira", "external_id": f"J-{k}", "title": f"Jira {k} v{n}"} for k in range(4)]
                check(session.post(f"{base}{ITEMS}bulk/", json={"items": entries}, timeout=10), 200)
            if n == 12:
                for k in (9, 11, 12):
                    check(session.patch(f"{base}{ITEMS}{k}/", json={"sprint": sprint}, timeout=10), 200)
                check(session.post(f"{sprints}{sprint}/start/", json={}, timeout=10), 200)
                check(session.patch(f"{base}{ITEMS}{11}/", json={"status": "done"}, timeout=10), 200)
            if n == 16:
                # An import of a Jira export: two new issues and one already synced by bulk.
                rows = "Summary,Issue key,Issue id,Issue Type,Status\n" + "".join(
                    f"{title},{key},{1000 + k},Story,{status}\n"
                    for k, (title, key, status) in enumerate(
                        [
                            ("Imported A", "IMP-1", "To Do"),
                            ("Imported B", "IMP-2", "Done"),
                            ("Jira 0 imported", "J-0", "Done"),
                        ]
                    )
                )
                files = {"file": ("jira.csv", rows.encode(), "text/csv")}
                form = {"kind": "backlog", "project": "SHOP", "source": "jira"}
                check(session.post(f"{base}{BASE}/imports/", files=files, data=form, timeout=30), 202)
            if n == 20:
                check(session.post(f"{sprints}{sprint}/close/", json={}, timeout=10), 200)
            time.sleep(0.02)

    puller = Puller(base, reader_secret)
    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        puller.pull()
        time.sleep(0.05)
    writer.join()
    puller.pull()  # no settle window: what was acknowledged is servable at once

    assert errors == []
    server = {
        str(i.pk): (i.version, i.deleted_at is not None, i.title, i.sprint_id is None)
        for i in m.BacklogItem.objects.filter(project=project)
    }
    client = {pk: (r["version"], r["deleted"], r["title"], r.get("sprint") is None) for pk, r in puller.state.items()}
    assert client == server
    assert len(server) == 30
    # J-0 was updated by the import and then retitled by the last bulk upsert.
    assert {"Imported A", "Imported B"} <= {title for _, _, title, _ in server.values()}
    assert m.Sprint.objects.get(project=project).state == m.SprintState.CLOSED


HOLD_SECONDS = 30


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_transaction_held_open_30_seconds_is_not_skipped_by_a_puller(on_postgres, workspace, owner):
    """A writer (a long import, say) holds its transaction open while others commit. The
    puller is held back at the open transaction (nothing that committed after it began is
    served past it) and, once it commits, ends with exactly the server's state."""
    from django.db import connection, transaction

    from tests.api.conftest import client_for
    from tracker.services.feedback import feedback_create

    feed = f"{BASE}/feedback/"
    reader = client_for(owner, workspace, read_only=True)
    cursor = reader.get(feed, {"updated_since": "2000-01-01T00:00:00Z"}).json()["cursor"]
    began, release, failures = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            with transaction.atomic():
                feedback_create(workspace=workspace, actor=None, body="Written in a long transaction")
                began.set()
                release.wait(HOLD_SECONDS + 30)
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            failures.append(repr(exc))
        finally:
            began.set()
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    began.wait(10)
    deadline = time.monotonic() + HOLD_SECONDS
    written = 0
    while time.monotonic() < deadline:
        feedback_create(workspace=workspace, actor=None, body=f"Committed {written}")  # commits at once
        written += 1
        # Everything after the open transaction waits for it.
        assert reader.get(feed, {"cursor": cursor}).json()["results"] == []
        time.sleep(0.5)
    release.set()
    holder.join()
    assert failures == []
    state: dict[str, int] = {}
    params = {"cursor": cursor}
    while True:
        body = reader.get(feed, params).json()
        state.update({row["id"]: row["version"] for row in body["results"]})
        params = {"cursor": body["cursor"]}
        if body["next"] is None:
            break
    server = {str(fb.pk): fb.version for fb in m.Feedback.objects.filter(workspace=workspace)}
    assert state == server
    assert len(server) == written + 1
