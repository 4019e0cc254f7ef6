"""Keyset (cursor) pagination in a stable, total order.

Every ordering ends with the primary key, so no two rows tie and a row can be neither
skipped nor repeated when rows are added while a client pages. The cursor is the ordering
values of the last row served, opaque to clients (base64 JSON).
"""

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db.models import F, Model, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

# Django's row-value lookups (made for composite primary keys): `(a, b) > (x, y)` in SQL on
# PostgreSQL and SQLite, expanded to ORs elsewhere.
TupleLookup = TupleGreaterThan | TupleLessThan

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([v if isinstance(v, int | float | type(None)) else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, count: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
    if not isinstance(values, list) or len(values) != count:
        raise ValidationError({"cursor": ["Invalid cursor."]})
    return values


def page_size_of(request: Request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError as exc:
        raise ValidationError({"page_size": [f"A whole number from 1 to {MAX_PAGE_SIZE}."]}) from exc
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [f"A whole number from 1 to {MAX_PAGE_SIZE}."]})
    return size


def _after(model: type[Model], ordering: Sequence[str], values: Sequence[Any]) -> Q | TupleLookup:
    """Rows strictly after `values` in `ordering` (lexicographic, mixed directions)."""
    fields, parsed = [], []
    for name, raw in zip(ordering, values, strict=True):
        field = name.lstrip("-")
        try:
            value = model._meta.get_field(field).to_python(raw)
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC)  # a forged offset beyond ±15:59 would fail in PostgreSQL
        except Exception as exc:  # noqa: BLE001 - any bad value is a bad cursor
            raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
        fields.append(field)
        parsed.append(value)
    descending = {name.startswith("-") for name in ordering}
    if len(descending) == 1:
        # One direction: a row comparison, (updated_at, id) > (x, y), which the database
        # answers by starting the index scan at the cursor. Spelled as an OR of conditions
        # it could only start at updated_at = x: a pull whose 10,000 rows were changed in
        # one statement (one timestamp) re-read every earlier page for each page.
        lookup = TupleLessThan if descending == {True} else TupleGreaterThan
        return lookup(Tuple(*(F(f) for f in fields)), tuple(parsed))
    query, equal = Q(), Q()
    for name, field, value in zip(ordering, fields, parsed, strict=True):
        op = "lt" if name.startswith("-") else "gt"
        query |= equal & Q(**{f"{field}__{op}": value})
        equal &= Q(**{field: value})
    return query


class KeysetPagination(BasePagination):
    """`?cursor=` and `?page_size=` (1–500, default 50); the answer is {next, results}.

    A sync pull (ApiView.page_of with `?updated_since=` or a sync cursor) sets `sync`; its
    answer is {next, cursor, results}: `cursor` is where to continue, also on the last page.
    """

    sync: Any = None

    def paginate(self, queryset: QuerySet, request: Request, ordering: Sequence[str]) -> list[Any]:
        self.sync = None
        assert ordering[-1].lstrip("-") in ("id", "pk")  # noqa: S101 - a total order is required
        self.request = request
        self.ordering = list(ordering)
        size = page_size_of(request)
        cursor = request.query_params.get("cursor")
        if cursor:
            queryset = queryset.filter(_after(queryset.model, ordering, decode_cursor(cursor, len(ordering))))
        rows = list(queryset.order_by(*ordering)[: size + 1])
        self.has_next = len(rows) > size
        rows = rows[:size]
        self.last = rows[-1] if rows else None
        return rows

    def cursor_values(self, row: Any) -> list[Any]:
        if isinstance(row, dict):  # a values() page
            return [row[name.lstrip("-")] for name in self.ordering]
        return [getattr(row, name.lstrip("-")) for name in self.ordering]

    def next_link(self) -> str | None:
        if not self.has_next or self.last is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, "cursor", encode_cursor(self.cursor_values(self.last)))

    def get_paginated_response(self, data: Any) -> Response:
        if self.sync is not None:
            from tracker.feed.sync import tombstone

            cursor = self.sync.cursor.encode()
            url = self.request.build_absolute_uri()
            next_link = replace_query_param(url, "cursor", cursor) if self.sync.has_more else None
            results = [*data, *(tombstone(change) for change in self.sync.tombstones)]
            return Response({"next": next_link, "cursor": cursor, "results": results})
        return Response({"next": self.next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page; null on the last one.",
                    "example": None,
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "Opaque position from a previous page's `next`.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": f"Rows per page, 1–{MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
