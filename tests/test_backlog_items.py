from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from tracker.models import BacklogItem, History, ItemKind, ItemStatus
from tracker.services.backlog import RANK_GAP, item_create, item_delete, item_move, item_update, items_rerank_by
from tracker.services.errors import StaleVersion, ValidationError


def keys(project):
    return [i.key for i in BacklogItem.objects.in_project(project).select_related("project").ranked()]


def make(project, n, **kw):
    return [item_create(project=project, actor=None, title=f"Item {i}", **kw) for i in range(n)]


def test_items_are_numbered_per_project_and_keyed_by_project(project, workspace):
    other = f.ProjectFactory(workspace=workspace, key="DESK")
    a, b = make(project, 2)
    c = item_create(project=other, actor=None, title="Other")
    assert (a.key, b.key, c.key) == ("SHOP-1", "SHOP-2", "DESK-1")


def test_new_items_go_to_the_bottom_unless_asked_for_the_top(project):
    make(project, 2)
    item_create(project=project, actor=None, title="Urgent", position="top")
    assert keys(project) == ["SHOP-3", "SHOP-1", "SHOP-2"]


def test_creating_an_item_writes_history(project, owner):
    item = item_create(project=project, actor=owner, title="Search", labels=["search", "search ", "mobile"])
    assert History.objects.filter(item=item, action="created", actor=owner).exists()
    assert sorted(item.labels.values_list("name", flat=True)) == ["mobile", "search"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "A title is required."),
        ("estimate", "-2", "Estimate must be between 0 and 1000 points."),
        ("estimate", "lots", "Estimate must be a number of points."),
        ("status", "sleeping", "Status must be one of"),
        ("kind", "saga", "Kind must be one of"),
    ],
)
def test_bad_item_fields_are_refused_and_nothing_is_written(project, field, value, message):
    fields = {"title": "Fine", field: value}
    with pytest.raises(ValidationError) as exc:
        item_create(project=project, actor=None, **fields)
    assert message in exc.value.message_dict[field][0]
    assert BacklogItem.objects.count() == 0


def test_an_epic_from_another_project_is_refused(project, workspace):
    foreign_epic = f.ItemFactory(project=f.ProjectFactory(workspace=workspace, key="DESK"), kind=ItemKind.EPIC)
    with pytest.raises(ValidationError) as exc:
        item_create(project=project, actor=None, title="Child", epic=foreign_epic)
    assert "epic" in exc.value.message_dict


def test_an_update_writes_one_history_row_per_changed_field_and_bumps_the_version(project, owner):
    item = item_create(project=project, actor=None, title="Old", estimate=3)
    item = item_update(item=item, actor=owner, title="New", estimate=Decimal("5"), priority=4)
    assert item.version == 2
    fields = set(History.objects.filter(item=item, action="changed").values_list("field", flat=True))
    assert fields == {"title", "estimate", "priority"}


def test_an_update_that_changes_nothing_keeps_the_version(project):
    item = item_create(project=project, actor=None, title="Same", estimate=3)
    assert item_update(item=item, actor=None, title="Same", estimate="3").version == 1


def test_a_stale_version_is_refused_and_nothing_changes(project):
    item = item_create(project=project, actor=None, title="Original")
    item_update(item=item, actor=None, title="First editor")
    with pytest.raises(StaleVersion) as exc:
        item_update(item=item, actor=None, expected_version=1, title="Second editor")
    assert exc.value.current_version == 2
    assert BacklogItem.objects.get(pk=item.pk).title == "First editor"


def test_marking_an_item_done_stamps_done_at_and_reopening_clears_it(project):
    item = item_create(project=project, actor=None, title="Ship")
    item = item_update(item=item, actor=None, status=ItemStatus.DONE)
    assert item.done_at is not None
    item = item_update(item=item, actor=None, status=ItemStatus.IN_PROGRESS)
    assert item.done_at is None


def test_deleting_tombstones_the_item_and_bumps_its_version(project):
    item = item_create(project=project, actor=None, title="Gone soon")
    item_delete(item=item, actor=None)
    item.refresh_from_db()
    assert item.deleted_at is not None and item.version == 2
    assert not BacklogItem.objects.in_project(project).exists()


def test_moving_before_an_item_places_it_there(project):
    make(project, 4)
    items = list(BacklogItem.objects.in_project(project).ranked())
    item_move(item=items[3], actor=None, before=items[1])
    assert keys(project) == ["SHOP-1", "SHOP-4", "SHOP-2", "SHOP-3"]


def test_moving_after_top_and_bottom(project):
    a, b, c = make(project, 3)
    item_move(item=a, actor=None, after=c)
    assert keys(project) == ["SHOP-2", "SHOP-3", "SHOP-1"]
    item_move(item=c, actor=None, position="bottom")
    assert keys(project) == ["SHOP-2", "SHOP-1", "SHOP-3"]
    item_move(item=c, actor=None, position="top")
    assert keys(project) == ["SHOP-3", "SHOP-2", "SHOP-1"]


def test_a_move_writes_one_item_row(project):
    items = make(project, 50)
    with CaptureQueriesContext(connection) as ctx:
        item_move(item=items[40], actor=None, before=items[10])
    updates = [
        q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE") and "tracker_backlogitem" in q["sql"]
    ]
    assert len(updates) == 1


def test_repeated_moves_into_one_gap_rebalance_and_keep_the_order(project):
    a, b, c = make(project, 3)
    # Each move into the gap above b halves it; after ~20 halvings a rebalance must happen.
    mover = [c, a]
    for n in range(45):
        item_move(item=mover[n % 2], actor=None, before=b)
        item_move(item=b, actor=None, position="top")
    ranks = list(BacklogItem.objects.in_project(project).ranked().values_list("rank", flat=True))
    assert len(set(ranks)) == 3
    assert sorted(ranks) == ranks
    assert min(b - a for a, b in zip(ranks, ranks[1:], strict=False)) > 1


def test_moving_relative_to_an_item_of_another_backlog_is_refused(project, workspace):
    (item,) = make(project, 1)
    foreign = f.ItemFactory(project=f.ProjectFactory(workspace=workspace, key="DESK"))
    with pytest.raises(ValidationError):
        item_move(item=item, actor=None, before=foreign)


def test_ranks_are_unique_per_project_in_the_database(project):
    f.ItemFactory(project=project, number=1, rank=RANK_GAP)
    with pytest.raises(IntegrityError):
        f.ItemFactory(project=project, number=2, rank=RANK_GAP)


def test_rerank_puts_the_chosen_items_on_top_in_that_order(project):
    a, b, c, d = make(project, 4)
    items_rerank_by(project=project, actor=None, ordered=[d, b])
    assert keys(project) == ["SHOP-4", "SHOP-2", "SHOP-1", "SHOP-3"]


def test_external_ids_are_unique_per_project_and_source(project):
    item_create(project=project, actor=None, title="A", source="jira", external_id="MESOS-1")
    with pytest.raises(IntegrityError):
        item_create(project=project, actor=None, title="B", source="jira", external_id="MESOS-1")


def test_an_external_id_without_a_source_is_refused(project):
    with pytest.raises(ValidationError) as exc:
        item_create(project=project, actor=None, title="A", external_id="X-1")
    assert "source" in exc.value.message_dict
