"""Helpers the hot pages render with: they give what Django's own calls give."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from tests import factories as f
from tracker.models import BacklogItem, Feedback, ItemKind, ItemStatus
from tracker.web.common import CappedPaginator, paginate_capped
from tracker.web.jinja import display, number_url, url, uuid_url

pytestmark = pytest.mark.django_db


def test_number_url_builds_the_path_reverse_gives_for_every_number():
    item_url = number_url("web:item", "acme", "SHOP")

    assert [item_url(n) for n in (1, 42, 10_000)] == [
        reverse("web:item", args=["acme", "SHOP", n]) for n in (1, 42, 10_000)
    ]


def test_url_gives_what_reverse_gives_each_time_it_is_asked():
    assert (
        url("web:backlog", "acme", "SHOP")
        == url("web:backlog", "acme", "SHOP")
        == reverse("web:backlog", args=["acme", "SHOP"])
    )


def test_display_gives_the_label_get_display_gives(project):
    item = f.ItemFactory(project=project, kind=ItemKind.BUG, status=ItemStatus.IN_REVIEW)

    assert display(item, "kind") == item.get_kind_display()
    assert display(item, "status") == item.get_status_display()


def test_display_of_a_value_outside_the_choices_is_the_value(project):
    item = BacklogItem(project=project, kind="legacy")

    assert display(item, "kind") == "legacy"


def test_a_capped_count_says_there_are_more_and_keeps_next_available(workspace):
    f.FeedbackFactory.create_batch(40, workspace=workspace)
    feedback = Feedback.objects.order_by("-received_at", "-id")

    paginator = CappedPaginator(feedback, 2, cap=30)
    page = paginator.get_page(15)

    assert paginator.shown_count == "30+" and paginator.capped
    assert page.has_next()


def test_a_count_under_the_cap_is_exact(workspace):
    f.FeedbackFactory.create_batch(3, workspace=workspace)

    paginator = CappedPaginator(Feedback.objects.order_by("id"), 2, cap=5)

    assert (paginator.shown_count, paginator.capped, paginator.num_pages) == ("3", False, 2)


def test_asking_for_a_page_past_the_cap_counts_further(workspace):
    f.FeedbackFactory.create_batch(9, workspace=workspace)
    request = RequestFactory().get("/", {"page": "4"})

    page = paginate_capped(Feedback.objects.order_by("id"), request, cap=2, per_page=2)

    assert page.number == 4 and page.paginator.count == 9


def test_uuid_url_builds_the_path_reverse_gives_for_every_id(workspace):
    customers = f.CustomerFactory.create_batch(2, workspace=workspace)
    customer_url = uuid_url("web:customer", workspace.slug)

    assert [customer_url(c.pk) for c in customers] == [
        reverse("web:customer", args=[workspace.slug, c.pk]) for c in customers
    ]


@pytest.mark.parametrize("value", ["2026-03-05T10:00:00+00:00", "2026-11-23", "2026-12-31T23:59:59.123456+00:00"])
def test_short_date_writes_what_djangos_date_filter_writes(value):
    from django.template.defaultfilters import date as django_date

    from tracker.web.filters import isodate, short_date

    assert short_date(value) == django_date(isodate(value), "M j, Y")
    assert short_date(value, False) == django_date(isodate(value), "M j")


@pytest.mark.parametrize("value", [0, 12.5, 999.49, 1234.5, 1234567.891, "2500.00", -3.5])
def test_whole_number_writes_what_floatformat_0g_writes(value):
    from django.template.defaultfilters import floatformat

    from tracker.web.filters import whole_number

    assert whole_number(value) == floatformat(value, "0g")
