"""Faults and races on PostgreSQL, through real HTTP against live_server.

* The request's database backend is killed (pg_terminate_backend) between two statements
  of a write: the request fails cleanly (API: 503 in the error shape), nothing of it is
  committed, and the next request succeeds on a fresh connection.
* Twenty concurrent rank moves in one backlog leave a strict total order.
* Two editors with the same version: one wins, the other gets 412 (API) or the conflict
  message (web form); the loser's change is nowhere.
* Concurrent sprint starts never leave two active sprints.
"""

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created
from django.utils import timezone

from tests import factories as f
from tracker import models as m
from tracker.services.backlog import item_create
from tracker.services.sprints import sprint_create
from tracker.services.tokens import token_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def dsn() -> str:
    db = settings.DATABASES["default"]
    return (
        f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']} dbname={connection.settings_dict['NAME']}"
        + (f" password={db['PASSWORD']}" if db.get("PASSWORD") else "")
    )


@pytest.fixture
def team(on_postgres, live_server):
    workspace = f.WorkspaceFactory(slug="faults")
    project = f.ProjectFactory(workspace=workspace, key="FLT")
    owner = f.UserFactory(username="fowner", password="pw")
    f.MembershipFactory(workspace=workspace, user=owner, role=m.WorkspaceRole.OWNER)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token_create(workspace=workspace, user=owner).secret}"
    return {
        "workspace": workspace,
        "project": project,
        "owner": owner,
        "api": session,
        "base": f"{live_server.url}/api/v1/workspaces/faults/projects/FLT",
        "url": live_server.url,
    }


class KillBackend:
    """Armed once: terminates the connection's own backend just before a statement matching
    `trigger` runs, from a second connection, as a failover or an admin's kill would."""

    def __init__(self, trigger: str) -> None:
        self.trigger = trigger
        self.armed = False
        self.fired = 0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        if self.armed and self.trigger in sql:
            self.armed = False
            pid = context["connection"].connection.info.backend_pid
            with psycopg.connect(dsn(), autocommit=True) as killer:
                killer.execute("SELECT pg_terminate_backend(%s)", [pid])
            self.fired += 1
        return execute(sql, params, many, context)


@pytest.fixture
def killer():
    # The item's number is taken (the project row locked and updated) before its rows are
    # copied in: the kill lands inside the write's transaction, after its first write.
    kill = KillBackend('UPDATE "tracker_project" SET "next_item_number"')

    def install(sender: Any, connection: Any, **kwargs: Any) -> None:
        if kill not in connection.execute_wrappers:
            connection.execute_wrappers.append(kill)

    connection_created.connect(install)
    yield kill
    connection_created.disconnect(install)


def test_a_connection_killed_mid_write_fails_cleanly_and_the_next_request_succeeds(team, killer):
    killer.armed = True
    response = team["api"].post(f"{team['base']}/items/", json={"title": "Half written"})
    assert killer.fired == 1
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable" and response.headers["Retry-After"] == "1"
    # Nothing of the write stayed: no item, no history, no change, the number not taken.
    assert not m.BacklogItem.objects.filter(title="Half written").exists()
    assert not m.History.objects.filter(item__project=team["project"]).exists()
    assert not m.Change.objects.filter(scope=team["project"].pk).exists()
    again = team["api"].post(f"{team['base']}/items/", json={"title": "Written"})
    assert again.status_code == 201
    assert list(m.BacklogItem.objects.filter(project=team["project"]).values_list("number", "title")) == [
        (1, "Written")
    ]


def test_an_idempotent_retry_after_a_dropped_connection_creates_once(team, killer):
    killer.armed = True
    headers = {"Idempotency-Key": "drop-1"}
    first = team["api"].post(f"{team['base']}/items/", json={"title": "Retried"}, headers=headers)
    assert first.status_code == 503
    second = team["api"].post(f"{team['base']}/items/", json={"title": "Retried"}, headers=headers)
    third = team["api"].post(f"{team['base']}/items/", json={"title": "Retried"}, headers=headers)
    assert second.status_code == 201 and third.status_code == 201
    assert third.headers.get("Idempotent-Replayed") == "true"
    assert m.BacklogItem.objects.filter(title="Retried").count() == 1


def test_a_web_form_write_killed_mid_way_leaves_nothing_and_the_page_recovers(team, killer):
    web = requests.Session()
    page = web.get(f"{team['url']}/login/")
    token = page.cookies["csrftoken"]
    login = web.post(
        f"{team['url']}/login/",
        data={"username": "fowner", "password": "pw", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{team['url']}/login/"},
        allow_redirects=False,
    )
    assert login.status_code == 302
    csrf = web.cookies["csrftoken"]
    form = {"title": "Web half", "kind": "story", "position": "bottom", "estimate": "", "csrfmiddlewaretoken": csrf}
    killer.armed = True
    response = web.post(f"{team['url']}/faults/FLT/backlog/items/", data=form, headers={"Referer": team["url"]})
    assert killer.fired == 1 and response.status_code == 500
    assert not m.BacklogItem.objects.filter(title="Web half").exists()
    form["title"] = "Web whole"
    assert web.post(f"{team['url']}/faults/FLT/backlog/items/", data=form, headers={"Referer": team["url"]}).ok
    assert list(m.BacklogItem.objects.values_list("title", flat=True)) == ["Web whole"]


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # reported by the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_concurrent_api_moves_leave_a_strict_total_order(team):
    project = team["project"]
    for n in range(30):
        item_create(project=project, actor=None, title=f"Item {n}")
    base = team["base"]

    def move(n: int) -> Callable[[], int]:
        # Items 11..30 each move before one of items 1..5: many moves aim at the same gap.
        body = {"before": 1 + n % 5} if n % 3 else {"position": "top"}
        return lambda: (
            requests.post(
                f"{base}/items/{11 + n}/move/", json=body, headers=team["api"].headers, timeout=60
            ).status_code
        )

    codes = together([move(n) for n in range(20)])
    assert codes == [200] * 20, codes
    rows = list(m.BacklogItem.objects.filter(project=project).order_by("rank").values_list("number", "rank"))
    ranks = [rank for _, rank in rows]
    assert len(rows) == 30 and len(set(ranks)) == 30 and ranks == sorted(ranks)
    numbers = [number for number, _ in rows]
    assert sorted(numbers) == list(range(1, 31))
    # The API serves the same order, every item exactly once.
    served = requests.get(f"{base}/items/?page_size=100", headers=team["api"].headers, timeout=30).json()
    assert [i["number"] for i in served["results"]] == numbers


def test_two_api_editors_with_the_same_version_one_wins_the_other_gets_412(team):
    item = item_create(project=team["project"], actor=None, title="Original")
    url = f"{team['base']}/items/{item.number}/"
    version = f'"{item.version}"'

    def edit(title: str) -> Callable[[], requests.Response]:
        return lambda: requests.patch(
            url, json={"title": title}, headers={**team["api"].headers, "If-Match": version}, timeout=60
        )

    results = together([edit("Alice's"), edit("Bob's")])
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 412]
    winner = next(r for r in results if r.status_code == 200).json()["title"]
    loser = next(r for r in results if r.status_code == 412)
    assert loser.json()["code"] == "precondition_failed" and loser.json()["current_version"] == item.version + 1
    item.refresh_from_db()
    assert item.title == winner and item.version == int(version.strip('"')) + 1
    assert m.History.objects.filter(item=item, field="title").count() == 1


def test_two_web_editors_with_the_same_version_one_sees_the_conflict_message(team, client):
    item = item_create(project=team["project"], actor=None, title="Original")
    client.force_login(team["owner"])
    form = {
        "version": item.version,
        "kind": "story",
        "status": "backlog",
        "priority": "3",
        "estimate": "",
        "epic": "",
        "assignee": "",
        "labels": "",
        "description": "",
        "acceptance_criteria": "",
    }
    url = f"/faults/FLT/items/{item.number}/edit/"
    first = client.post(url, {**form, "title": "Alice's"})
    second = client.post(url, {**form, "title": "Bob's"})
    assert first.status_code == 302
    assert second.status_code == 422
    assert "Someone else changed FLT-1 while you were editing" in second.content.decode()
    item.refresh_from_db()
    assert item.title == "Alice's"


def test_concurrent_sprint_starts_never_leave_two_active(team):
    project = team["project"]
    start = timezone.localdate()
    sprints = [
        sprint_create(project=project, actor=None, name=f"S{n}", start_date=start, end_date=start + timedelta(days=13))
        for n in range(4)
    ]
    urls = [f"{team['base']}/sprints/{s.number}/start/" for s in sprints]
    results = together([lambda u=u: requests.post(u, json={}, headers=team["api"].headers, timeout=60) for u in urls])
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 1, [(r.status_code, r.text[:200]) for r in results]
    assert all(code in (400, 409) for code in codes if code != 200), codes
    assert m.Sprint.objects.filter(project=project, state=m.SprintState.ACTIVE).count() == 1
