import pytest
from django.db import IntegrityError

from tests import factories as f
from tracker.models import Change, ChangeOp, Customer, Feedback, FeedbackLink, History, LoopState, TriageState
from tracker.services.backlog import item_create, item_update
from tracker.services.customers import customer_resolve
from tracker.services.errors import ValidationError
from tracker.services.feedback import (
    feedback_accept,
    feedback_create,
    feedback_create_item,
    feedback_dismiss,
    feedback_link,
    feedback_mark_duplicate,
    feedback_unlink,
    loop_state_for,
)


def test_feedback_finds_its_customer_by_email_case_insensitively(workspace):
    known = f.CustomerFactory(workspace=workspace, email="ann@example.com")
    fb = feedback_create(workspace=workspace, actor=None, body="Slow checkout", customer_email="ANN@example.com ")
    assert fb.customer == known


def test_feedback_from_an_unknown_email_creates_the_customer(workspace):
    fb = feedback_create(
        workspace=workspace, actor=None, body="Hi", customer_email="new@example.com", customer_name="New Person"
    )
    assert fb.customer.name == "New Person"
    assert Customer.objects.filter(workspace=workspace, email="new@example.com").count() == 1


def test_customers_are_matched_by_external_id_before_email(workspace):
    by_id = f.CustomerFactory(workspace=workspace, source="crm", external_id="C-9", email="x@example.com")
    assert customer_resolve(workspace=workspace, source="crm", external_id="C-9", email="other@example.com") == by_id


@pytest.mark.parametrize(
    ("field", "value"), [("nps", 11), ("nps", -1), ("csat", 0), ("csat", 6), ("ces", 8), ("nps", "ten")]
)
def test_scores_out_of_range_are_refused_and_nothing_is_written(workspace, field, value):
    with pytest.raises(ValidationError) as exc:
        feedback_create(workspace=workspace, actor=None, body="Meh", **{field: value})
    assert field in exc.value.message_dict
    assert not Feedback.objects.exists()


def test_the_database_refuses_an_out_of_range_score(workspace):
    with pytest.raises(IntegrityError):
        f.FeedbackFactory(workspace=workspace, nps=12)


def test_empty_feedback_is_refused(workspace):
    with pytest.raises(ValidationError) as exc:
        feedback_create(workspace=workspace, actor=None, body="   ")
    assert "body" in exc.value.message_dict


def test_accept_and_dismiss_change_triage_and_write_history(workspace, po):
    fb = f.FeedbackFactory(workspace=workspace)
    assert feedback_accept(feedback=fb, actor=po).triage == TriageState.ACCEPTED
    fb = feedback_dismiss(feedback=fb, actor=po)
    assert fb.triage == TriageState.DISMISSED and fb.version == 3
    assert History.objects.filter(feedback=fb, field="triage").count() == 2


def test_linking_accepts_the_feedback_and_counts_it_on_the_item(workspace, project, po):
    fb = f.FeedbackFactory(workspace=workspace)
    item = item_create(project=project, actor=po, title="Faster checkout")
    link = feedback_link(feedback=fb, item=item, actor=po, quote="checkout is slow")
    fb.refresh_from_db()
    item.refresh_from_db()
    assert link.quote == "checkout is slow" and link.linked_by == po
    assert fb.triage == TriageState.ACCEPTED and fb.loop_state == LoopState.PLANNED
    assert (item.feedback_count, item.customer_count) == (1, 1) and item.impact_score > 0


def test_an_item_keeps_the_segments_of_the_known_customers_behind_it(workspace, project, po):
    from tracker.services.customers import customer_update

    employee = f.CustomerFactory(workspace=workspace, segment="employee")
    item = item_create(project=project, actor=po, title="VPN drops")
    feedback_link(feedback=f.FeedbackFactory(workspace=workspace, customer=employee), item=item, actor=po)
    feedback_link(feedback=f.FeedbackFactory(workspace=workspace, customer=None), item=item, actor=po)
    item.refresh_from_db()
    assert item.customer_segments == ["employee"]

    customer_update(customer=employee, segment="management")

    item.refresh_from_db()
    assert item.customer_segments == ["management"]


def test_linking_twice_updates_the_quote_instead_of_doubling(workspace, project):
    fb = f.FeedbackFactory(workspace=workspace)
    item = item_create(project=project, actor=None, title="X")
    feedback_link(feedback=fb, item=item, actor=None, quote="first")
    feedback_link(feedback=fb, item=item, actor=None, quote="second")
    assert list(FeedbackLink.objects.values_list("quote", flat=True)) == ["second"]


def test_linking_to_another_workspace_is_refused_and_nothing_is_written(workspace, other_workspace):
    fb = f.FeedbackFactory(workspace=workspace)
    foreign = item_create(project=f.ProjectFactory(workspace=other_workspace, key="OPS"), actor=None, title="Theirs")
    with pytest.raises(ValidationError) as exc:
        feedback_link(feedback=fb, item=foreign, actor=None)
    assert "own workspace" in exc.value.message_dict["item"][0]
    assert not FeedbackLink.objects.exists()
    fb.refresh_from_db()
    assert fb.triage == TriageState.NEW


def test_unlinking_leaves_a_tombstone_for_sync_and_reopens_the_loop(workspace, project):
    fb = f.FeedbackFactory(workspace=workspace)
    item = item_create(project=project, actor=None, title="X")
    link = feedback_link(feedback=fb, item=item, actor=None)
    feedback_unlink(feedback=fb, item=item, actor=None)
    fb.refresh_from_db()
    assert fb.loop_state == LoopState.OPEN
    tombstone = Change.objects.get(object_id=link.pk, op=ChangeOp.DELETE)
    assert tombstone.data == {"feedback": str(fb.pk), "item_id": str(item.pk), "item": item.key, "quote": ""}


def test_marking_a_duplicate_moves_its_links_to_the_survivor(workspace, project):
    original, dup = f.FeedbackFactory(workspace=workspace), f.FeedbackFactory(workspace=workspace)
    a, b = item_create(project=project, actor=None, title="A"), item_create(project=project, actor=None, title="B")
    feedback_link(feedback=original, item=a, actor=None)
    feedback_link(feedback=dup, item=a, actor=None, quote="same ask")
    feedback_link(feedback=dup, item=b, actor=None, quote="other ask")
    feedback_mark_duplicate(feedback=dup, original=original, actor=None)
    dup.refresh_from_db()
    assert dup.triage == TriageState.DUPLICATE and dup.duplicate_of == original
    assert set(FeedbackLink.objects.values_list("feedback_id", "item_id")) == {(original.pk, a.pk), (original.pk, b.pk)}
    assert dup.loop_state == LoopState.OPEN


def test_a_duplicate_of_a_duplicate_points_at_the_original(workspace):
    original, first, second = (f.FeedbackFactory(workspace=workspace) for _ in range(3))
    feedback_mark_duplicate(feedback=first, original=original, actor=None)
    first.refresh_from_db()
    feedback_mark_duplicate(feedback=second, original=first, actor=None)
    second.refresh_from_db()
    assert second.duplicate_of == original


def test_feedback_cannot_duplicate_itself_or_another_workspace(workspace, other_workspace):
    fb = f.FeedbackFactory(workspace=workspace)
    with pytest.raises(ValidationError):
        feedback_mark_duplicate(feedback=fb, original=fb, actor=None)
    with pytest.raises(ValidationError):
        feedback_mark_duplicate(feedback=fb, original=f.FeedbackFactory(workspace=other_workspace), actor=None)


def test_creating_an_item_from_feedback_links_it_with_the_quote(workspace, project, po):
    fb = f.FeedbackFactory(workspace=workspace, body="Please add dark mode to the app")
    item = feedback_create_item(feedback=fb, project=project, actor=po, quote="add dark mode")
    assert item.title == "Please add dark mode to the app"
    assert FeedbackLink.objects.get(feedback=fb, item=item).quote == "add dark mode"


def test_loop_state_follows_the_linked_items(workspace, project):
    fb = f.FeedbackFactory(workspace=workspace)
    a, b = item_create(project=project, actor=None, title="A"), item_create(project=project, actor=None, title="B")
    feedback_link(feedback=fb, item=a, actor=None)
    feedback_link(feedback=fb, item=b, actor=None)
    item_update(item=a, actor=None, status="in_progress")
    fb.refresh_from_db()
    assert fb.loop_state == LoopState.IN_PROGRESS
    item_update(item=a, actor=None, status="done")
    item_update(item=b, actor=None, status="done")
    fb.refresh_from_db()
    assert fb.loop_state == LoopState.ADDRESSED and fb.addressed_at is not None


@pytest.mark.parametrize(
    ("notified", "states", "expected"),
    [
        (False, [], LoopState.OPEN),
        (False, [("backlog", None)], LoopState.PLANNED),
        (False, [("ready", "active")], LoopState.IN_PROGRESS),
        (False, [("done", None), ("backlog", None)], LoopState.IN_PROGRESS),
        (False, [("done", "closed"), ("wont_do", None)], LoopState.ADDRESSED),
        (False, [("wont_do", None)], LoopState.OPEN),
        (True, [("done", "closed")], LoopState.CLOSED),
    ],
)
def test_loop_state_rules(notified, states, expected):
    assert loop_state_for(notified=notified, item_states=states) == expected


def test_linking_refreshes_the_items_counters_and_its_sync_timestamp(workspace, project):
    item = item_create(project=project, actor=None, title="X")
    before = item.updated_at
    feedback_link(feedback=f.FeedbackFactory(workspace=workspace), item=item, actor=None)
    item.refresh_from_db()
    assert item.feedback_count == 1 and item.updated_at > before
