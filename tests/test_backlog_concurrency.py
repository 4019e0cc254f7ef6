"""Concurrent rank moves on PostgreSQL: row locks keep the order total."""

import threading

import pytest
from django.db import connection, connections

from tests import factories as f
from tracker.models import BacklogItem
from tracker.services.backlog import item_create, item_move

pytestmark = pytest.mark.django_db(transaction=True)


def _run_in_threads(work, count):
    errors = []
    barrier = threading.Barrier(count)

    def runner(index):
        try:
            barrier.wait()
            work(index)
        except Exception as exc:  # collected and re-raised in the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_two_concurrent_moves_into_the_same_gap_leave_a_strict_total_order(on_postgres):
    project = f.ProjectFactory(key="RACE")
    items = [item_create(project=project, actor=None, title=f"Item {i}") for i in range(4)]
    target = items[1]

    errors = _run_in_threads(
        lambda i: item_move(item=BacklogItem.objects.get(pk=items[2 + i].pk), actor=None, before=target), 2
    )

    assert errors == []
    ranks = list(BacklogItem.objects.filter(project=project).order_by("rank").values_list("number", "rank"))
    assert len({r for _, r in ranks}) == 4
    order = [n for n, _ in ranks]
    assert order[0] == 1 and order[-1] == 2 and set(order[1:3]) == {3, 4}


def test_twenty_concurrent_moves_keep_every_item_exactly_once(on_postgres):
    project = f.ProjectFactory(key="MANY")
    items = [item_create(project=project, actor=None, title=f"Item {i}") for i in range(25)]

    def move(i):
        item_move(item=BacklogItem.objects.get(pk=items[i + 5].pk), actor=None, before=items[i % 5])

    errors = _run_in_threads(move, 20)

    assert errors == []
    ranks = list(BacklogItem.objects.filter(project=project).values_list("rank", flat=True))
    assert len(ranks) == 25 and len(set(ranks)) == 25
    assert connection.vendor == "postgresql"


def test_two_concurrent_links_to_one_item_are_both_counted(on_postgres):
    from tracker.services.feedback import feedback_link

    project = f.ProjectFactory(key="CNT")
    item = item_create(project=project, actor=None, title="Popular")
    feedback = [f.FeedbackFactory(workspace=project.workspace) for _ in range(2)]

    errors = _run_in_threads(
        lambda i: feedback_link(
            feedback=feedback[i], item=BacklogItem.objects.select_related("project").get(pk=item.pk), actor=None
        ),
        2,
    )

    assert errors == []
    item.refresh_from_db()
    assert (item.feedback_count, item.customer_count) == (2, 2)
