"""Query expressions the ORM lacks across both databases Loopwise runs on."""

import json
from typing import Any

from django.db import models
from django.db.models import Aggregate, Subquery


class ListField(models.Field):
    """The output of `ListOf`: a Python list, never None (no row gives an empty list)."""

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, str):  # SQLite's json_group_array
            return json.loads(value)
        return list(value)


class ListAgg(Aggregate):
    """Collect a column of a group into one value: ARRAY_AGG on PostgreSQL, a JSON array on
    SQLite. Used inside `ListOf`; its Python value is a list either way."""

    function = "JSON_GROUP_ARRAY"
    output_field = ListField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, function="ARRAY_AGG", **extra_context)


class ListOf(Subquery):
    """The values of `column` over the rows of a correlated queryset, as a list on each outer row.

    One query for a page and its to-many values (labels, objective ids) instead of a second
    query with an IN list of the page's ids; each row's list is one index lookup::

        items.annotate(label_names=ListOf(Through.objects.filter(item_id=OuterRef("pk")), "label__name"))
    """

    output_field = ListField()

    def __init__(self, queryset: models.QuerySet, column: str) -> None:
        # Group by a constant so the aggregate folds the whole correlated set into one row.
        grouped = queryset.order_by().values(_one=models.Value(1)).annotate(_list=ListAgg(column)).values("_list")
        super().__init__(grouped, output_field=ListField())
