from decimal import Decimal

import pytest

from tests import factories as f
from tracker.models import Segment
from tracker.services.backlog import item_create, item_update
from tracker.services.feedback import feedback_link, feedback_mark_duplicate
from tracker.services.review import sprint_review
from tracker.services.sprints import sprint_add_items, sprint_close, sprint_create, sprint_start


def build_sprint(workspace, project, n_items, links_per_item):
    sprint = sprint_create(project=project, actor=None, goal="Happier shoppers", capacity=50)
    items = [item_create(project=project, actor=None, title=f"Item {i}", estimate=2) for i in range(n_items)]
    objective = f.ObjectiveFactory(workspace=workspace)
    for index, item in enumerate(items):
        item.objectives.add(objective)
        for n in range(links_per_item):
            customer = f.CustomerFactory(
                workspace=workspace,
                segment=Segment.EMPLOYEE if n % 2 else Segment.END_CUSTOMER,
                annual_value=Decimal(100),
            )
            fb = f.FeedbackFactory(workspace=workspace, customer=customer, nps=3)
            feedback_link(feedback=fb, item=item, actor=None, quote=f"quote {index}-{n}")
    sprint_add_items(sprint=sprint, items=items, actor=None)
    sprint = sprint_start(sprint=sprint, actor=None)
    for item in items[:-1]:
        item_update(item=item, actor=None, status="done")
    return sprint, items


def test_the_review_shows_each_done_item_with_its_customers_quotes(workspace, project):
    sprint, items = build_sprint(workspace, project, 3, 2)
    review = sprint_review(sprint)
    first = review["problems_addressed"][0]
    assert first["key"] == "SHOP-1"
    assert [fb["quote"] for fb in first["feedback"]] == ["quote 0-0", "quote 0-1"]
    assert review["totals"]["customers_served"] == 4
    assert review["totals"]["feedback_addressed"] == 4
    assert review["totals"]["annual_value"] == 400.0
    assert review["committed"] == {"points": 6.0, "items": 3}
    assert review["completed"] == {"points": 4.0, "items": 2}


def test_the_review_counts_the_cost_of_carry_over(workspace, project):
    sprint, items = build_sprint(workspace, project, 2, 3)
    carry = sprint_review(sprint)["carry_over"]
    assert [c["key"] for c in carry] == ["SHOP-2"]
    assert len(carry[0]["customers_waiting"]) == 3 and carry[0]["longest_wait_days"] == 3


def test_the_review_reports_scope_added_after_start(workspace, project):
    sprint, _ = build_sprint(workspace, project, 2, 0)
    late = item_create(project=project, actor=None, title="Late", estimate=5)
    sprint_add_items(sprint=sprint, items=[late], actor=None)
    scope = sprint_review(sprint)["scope_change"]
    assert [a["key"] for a in scope["added"]] == ["SHOP-3"] and scope["added_points"] == 5


def test_the_review_warns_about_done_work_without_customer_evidence(workspace, project):
    sprint, _ = build_sprint(workspace, project, 3, 0)
    warnings = sprint_review(sprint)["traceability"]["done_without_evidence"]
    assert [w["key"] for w in warnings] == ["SHOP-1", "SHOP-2"]


def test_the_review_lists_much_requested_feedback_without_an_item(workspace, project):
    sprint, _ = build_sprint(workspace, project, 1, 0)
    original = f.FeedbackFactory(workspace=workspace, body="Export to Excel please")
    for _ in range(2):
        feedback_mark_duplicate(feedback=f.FeedbackFactory(workspace=workspace), original=original, actor=None)
    requested = sprint_review(sprint)["traceability"]["requested_without_item"]
    assert requested[0]["asks"] == 3


@pytest.mark.parametrize("fetch", [1000, 3], ids=["one-fetch", "fetches-across-rounds"])
def test_requested_feedback_skips_originals_already_linked_and_keeps_reading_past_them(
    workspace, project, monkeypatch, fetch
):
    from tracker.services import review

    monkeypatch.setattr(review, "REQUESTED_BATCH", 2)  # several rounds with little data
    monkeypatch.setattr(review, "REQUESTED_FETCH", fetch)
    sprint, _ = build_sprint(workspace, project, 1, 0)
    item = item_create(project=project, actor=None, title="Already planned")

    def asked(times, body):
        original = f.FeedbackFactory(workspace=workspace, body=body)
        for _ in range(times):
            feedback_mark_duplicate(feedback=f.FeedbackFactory(workspace=workspace), original=original, actor=None)
        return original

    for n in range(3):
        feedback_link(feedback=asked(5 + n, f"Planned {n}"), item=item, actor=None)  # most asked, not open
    asked(2, "Dark mode")
    asked(4, "Export to Excel")
    asked(1, "Bigger fonts")

    requested = review.requested_without_item(workspace, 2)

    assert [(r["title"], r["asks"]) for r in requested] == [("Export to Excel", 5), ("Dark mode", 3)]


def test_the_page_version_keeps_a_few_quotes_and_counts_them_all(workspace, project):
    sprint, _ = build_sprint(workspace, project, 2, 5)

    review = sprint_review(sprint, quotes=2)

    first, carried = review["problems_addressed"][0], review["carry_over"][0]
    assert [fb["quote"] for fb in first["feedback"]] == ["quote 0-0", "quote 0-1"]
    assert first["feedback_total"] == 5 and review["totals"]["customers_served"] == 5
    assert len(carried["customers_waiting"]) == 2 and carried["waiting_count"] == 5


def test_the_review_shows_the_segment_mix_against_the_target(workspace, project):
    sprint, _ = build_sprint(workspace, project, 3, 2)
    mix = {row["segment"]: row for row in sprint_review(sprint)["segment_mix"]}
    assert mix[Segment.END_CUSTOMER]["actual"] == 50.0 and mix[Segment.END_CUSTOMER]["target"] == 70


def test_the_review_is_frozen_at_close(workspace, project):
    sprint, items = build_sprint(workspace, project, 2, 1)
    closed = sprint_close(sprint=sprint, actor=None)
    item_update(item=items[0], actor=None, title="Renamed after the review")
    assert sprint_review(closed)["problems_addressed"][0]["title"] == "Item 0"
    assert sprint_review(closed)["frozen"] is True


@pytest.mark.parametrize(("n_items", "links"), [(2, 1), (12, 6)])
def test_the_review_runs_a_constant_number_of_queries(
    workspace, project, django_assert_max_num_queries, n_items, links
):
    sprint, _ = build_sprint(workspace, project, n_items, links)
    sprint = type(sprint).objects.select_related("project__workspace").get(pk=sprint.pk)
    # items, links (compact), quotes, objectives, burndown history, velocity, top open items,
    # much-requested feedback with no item (duplicates counted, their originals), score deltas
    with django_assert_max_num_queries(10):
        sprint_review(sprint)
