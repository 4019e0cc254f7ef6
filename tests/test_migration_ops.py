"""Index migrations that keep a large database writable (0008, 0009)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from tracker.models import Feedback, FeedbackLink

pytestmark = pytest.mark.django_db


def _constraints(model):
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, model._meta.db_table).values()


@pytest.mark.parametrize(
    ("model", "column", "replacement"),
    [
        (Feedback, "customer_id", ["customer_id", "received_at"]),
        (FeedbackLink, "item_id", ["item_id", "feedback_id"]),
        (FeedbackLink, "feedback_id", ["feedback_id", "item_id"]),
    ],
)
def test_a_replaced_index_is_gone_and_the_foreign_key_stays(model, column, replacement):
    constraints = list(_constraints(model))
    assert not [c for c in constraints if c["index"] and not c["unique"] and c["columns"] == [column]]
    assert [c for c in constraints if c["columns"][: len(replacement)] == replacement]
    assert [c for c in constraints if c["foreign_key"] and c["columns"] == [column]]


@pytest.mark.parametrize("migration", ["0008", "0009"])
def test_on_postgresql_the_new_index_is_built_concurrently_and_no_constraint_is_rebuilt(migration, on_postgres):
    out = io.StringIO()
    call_command("sqlmigrate", "tracker", migration, stdout=out)
    assert "CREATE INDEX CONCURRENTLY" in out.getvalue()
    assert "DROP CONSTRAINT" not in out.getvalue()
