"""Planner statistics refreshed by long jobs (PostgreSQL)."""

import psycopg
import pytest
from django.db import connection

from tracker.dbstats import analyze_if_free
from tracker.models import Feedback

pytestmark = pytest.mark.django_db


def _other_connection() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"], user=s["USER"], host=s["HOST"] or None, port=s["PORT"] or None, password=s["PASSWORD"]
    )


def test_analyze_runs_inside_the_callers_transaction(on_postgres):
    assert analyze_if_free(Feedback._meta.db_table)
    with connection.cursor() as cursor:  # the transaction is still usable afterwards
        cursor.execute("SELECT current_setting('lock_timeout')")
        assert cursor.fetchone()[0] == "0"


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
        pytest.skip("SQLite behaviour")
    assert not analyze_if_free(Feedback._meta.db_table)
