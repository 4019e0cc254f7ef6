"""Item lists read plain rows and build their JSON by hand (the hot path of sync clients):
they must send exactly what ItemSerializer sends for the same items."""

from decimal import Decimal

from django.test import RequestFactory
from django.utils import timezone

from tests import factories as f
from tests.api.conftest import ITEMS
from tracker.api.serializers.items import ItemSerializer, item_list_data, item_list_rows
from tracker.models import BacklogItem, ItemKind, ItemStatus, Label
from tracker.services.backlog import item_create, item_delete


def varied_items(project, owner):
    """Items covering every optional field: epic, sprint, assignee, labels, objectives,
    external ids, estimates with and without decimals, done and deleted ones."""
    epic = item_create(project=project, actor=owner, title="Checkout epic", kind=ItemKind.EPIC)
    sprint = f.SprintFactory(project=project)
    objective = f.ObjectiveFactory(workspace=project.workspace)
    full = item_create(
        project=project,
        actor=owner,
        title="Guest <checkout> & “quotes”",
        description="Markdown *body*",
        estimate=Decimal("2.5"),
        epic=epic,
        labels=["zeta", "alpha"],
        objectives=[objective],
    )
    BacklogItem.objects.filter(pk=full.pk).update(
        sprint=sprint, assignee=owner, source="jira", external_id="SHOP-1", impact_score=3.25,
        status=ItemStatus.DONE, done_at=timezone.now(), feedback_count=4, customer_count=3,
    )  # fmt: skip
    item_create(project=project, actor=owner, title="Bare", estimate=Decimal("8"))
    gone = item_create(project=project, actor=owner, title="Deleted later")
    item_delete(item=gone, actor=owner)
    Label.objects.create(workspace=project.workspace, name="unused")
    return BacklogItem.objects.filter(project=project).order_by("rank")


def test_list_rows_are_represented_exactly_as_the_item_serializer_represents_items(project, owner):
    items = varied_items(project, owner)
    request = RequestFactory().get("/api/v1/")

    fast = item_list_data(item_list_rows(items), project=project, request=request)
    slow = ItemSerializer(
        items.select_related("project__workspace", "epic", "sprint", "assignee").prefetch_related(
            "labels", "objectives"
        ),
        many=True,
        context={"request": request},
    ).data

    assert len(fast) == 4
    assert fast == [dict(row) for row in slow]


def test_an_item_without_labels_or_objectives_lists_them_as_empty_lists(admin_api, project, owner):
    item_create(project=project, actor=owner, title="Plain")

    row = admin_api.get(ITEMS).json()["results"][0]

    assert (row["labels"], row["objectives"], row["epic"], row["sprint"]) == ([], [], None, None)
