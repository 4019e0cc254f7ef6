"""Planner statistics refreshed by long jobs (PostgreSQL)."""

import psycopg
import pytest
from django.db import DatabaseError, connection

from tests import factories as f
from tracker.dbstats import analyze_if_free
from tracker.models import Feedback

pytestmark = pytest.mark.django_db


def _other_connection() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"], user=s["USER"], host=s["HOST"] or None, port=s["PORT"] or None, password=s["PASSWORD"]
    )


def test_analyze_inside_a_transaction_keeps_the_callers_lock_timeout(on_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '7s'")
        assert analyze_if_free(Feedback._meta.db_table)
        cursor.execute("SELECT current_setting('lock_timeout')")  # the transaction goes on
        assert cursor.fetchone()[0] == "7s"


def test_analyze_counts_the_rows_written_so_far(on_postgres, workspace):
    for _ in range(5):
        f.FeedbackFactory(workspace=workspace)
    assert analyze_if_free(Feedback._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Feedback._meta.db_table])
        assert cursor.fetchone()[0] >= 5


def test_other_database_errors_are_not_swallowed(on_postgres):
    with pytest.raises(DatabaseError):
        analyze_if_free("no_such_table")


def test_analyze_steps_aside_when_another_session_is_analyzing_the_table(on_postgres):
    table = Feedback._meta.db_table
    with _other_connection() as other:
        other.execute(f"LOCK TABLE {table} IN SHARE UPDATE EXCLUSIVE MODE")  # what ANALYZE takes
        assert not analyze_if_free(table, wait="50ms")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_there_is_nothing_to_analyze_on_sqlite():
    if connection.vendor == "postgresql":
        pytest.skip("checks the SQLite path; the PostgreSQL pass tests the ANALYZE itself")
    assert not analyze_if_free(Feedback._meta.db_table)
