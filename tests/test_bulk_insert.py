"""rows_insert writes what bulk_create would write, on both databases."""

from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from tests import factories as f
from tracker.models import BacklogItem, Feedback, History, ItemKind, ItemStatus
from tracker.services.bulk import rows_insert

pytestmark = pytest.mark.django_db(transaction=True)


def test_inserted_feedback_reads_back_with_its_defaults_and_timestamps(workspace):
    customer = f.CustomerFactory(workspace=workspace)
    new = [
        Feedback(
            workspace=workspace, customer=customer, body=f"Row {n}", tags=["a", "b"], nps=n, received_at=timezone.now()
        )
        for n in range(3)
    ]

    rows_insert(Feedback, new)

    stored = Feedback.objects.filter(workspace=workspace).order_by("nps")
    assert [(s.pk, s.body, s.tags, s.nps, s.version) for s in stored] == [
        (n.pk, n.body, ["a", "b"], n.nps, 1) for n in new
    ]
    assert all(s.created_at and s.updated_at and s.triage == "new" for s in stored)
    assert not new[0]._state.adding


def test_inserted_items_keep_their_decimal_estimate_choices_and_times(project):
    done_at = timezone.now()
    item = BacklogItem(
        project=project, number=1, rank=10, title="Sync", estimate=Decimal("2.5"), status=ItemStatus.DONE,
        kind=ItemKind.BUG, done_at=done_at, customer_segments=["partner"],
    )  # fmt: skip

    rows_insert(BacklogItem, [item])

    stored = BacklogItem.objects.get(pk=item.pk)
    assert (stored.estimate, stored.status, stored.kind, stored.done_at) == (Decimal("2.5"), "done", "bug", done_at)
    assert stored.customer_segments == ["partner"] and stored.deleted_at is None
    assert stored.created_at and stored.updated_at


def test_rows_with_database_assigned_keys_are_inserted(workspace):
    rows_insert(
        History, [History(workspace=workspace, action="created", field=f"f{n}", at=timezone.now()) for n in range(4)]
    )

    assert History.objects.filter(workspace=workspace, action="created").count() == 4


def test_a_duplicate_key_raises_integrity_error_and_writes_nothing(workspace):
    now = timezone.now()
    first = Feedback(workspace=workspace, body="One", source="desk", external_id="T-1", received_at=now)
    rows_insert(Feedback, [first])

    with pytest.raises(IntegrityError):
        rows_insert(
            Feedback, [Feedback(workspace=workspace, body="Two", source="desk", external_id="T-1", received_at=now)]
        )

    assert Feedback.objects.filter(workspace=workspace).count() == 1
