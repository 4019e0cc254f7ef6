"""Query expressions of tracker.models.expressions, on SQLite and PostgreSQL."""

import pytest

from tests import factories as f
from tracker.models import Feedback

pytestmark = pytest.mark.django_db


def test_any_matches_the_same_rows_as_in(workspace):
    ann, bob, cid = (f.CustomerFactory(workspace=workspace) for _ in range(3))
    for customer in (ann, ann, bob, cid, None):
        f.FeedbackFactory(workspace=workspace, customer=customer)
    wanted = [ann.pk, bob.pk]
    by_any = set(Feedback.objects.filter(customer_id__any=wanted).values_list("pk", flat=True))
    by_in = set(Feedback.objects.filter(customer_id__in=wanted).values_list("pk", flat=True))
    assert by_any == by_in and len(by_any) == 3


def test_any_of_nothing_matches_nothing_without_a_query(workspace, django_assert_num_queries):
    f.FeedbackFactory(workspace=workspace)
    with django_assert_num_queries(0):
        assert list(Feedback.objects.filter(customer_id__any=[])) == []


def test_any_sends_the_list_as_one_parameter_on_postgresql(workspace, on_postgres):
    ids = [f.CustomerFactory(workspace=workspace).pk for _ in range(3)]
    sql, params = Feedback.objects.filter(customer_id__any=ids).query.sql_with_params()
    assert "unnest" in sql and [list(p) for p in params if isinstance(p, list)] == [ids]


def test_any_ignores_none_as_in_does(workspace):
    ann = f.CustomerFactory(workspace=workspace)
    f.FeedbackFactory(workspace=workspace, customer=ann)
    f.FeedbackFactory(workspace=workspace, customer=None)
    assert Feedback.objects.filter(customer_id__any=[ann.pk, None]).count() == 1
    assert Feedback.objects.exclude(customer_id__any=[ann.pk, None]).count() == (
        Feedback.objects.exclude(customer_id__in=[ann.pk, None]).count()
    )


def test_any_compares_long_texts_whole(workspace):
    f.FeedbackFactory(workspace=workspace, source="zendesk", external_id="x" * 200)  # the longest it may be
    assert not Feedback.objects.filter(external_id__any=["x" * 200 + "y"]).exists()
    assert Feedback.objects.filter(external_id__any=["x" * 200]).exists()


def test_any_takes_a_list_only(workspace):
    with pytest.raises(TypeError):
        Feedback.objects.filter(customer_id__any=Feedback.objects.values("customer_id"))
