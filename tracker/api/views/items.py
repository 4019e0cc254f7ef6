"""Backlog items: list, create, read, edit, delete, move, upsert by external id, bulk, export."""

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.access import Action
from tracker.api.base import ApiView
from tracker.api.exceptions import flatten
from tracker.api.exports import jira_csv
from tracker.api.filters import ITEM_ORDERINGS, FilterBackend, ItemFilter
from tracker.api.refs import resolve_item_refs
from tracker.api.serializers.common import BulkResultSerializer
from tracker.api.serializers.items import (
    BulkItemSerializer,
    BulkItemsSerializer,
    ItemCreateSerializer,
    ItemReplaceSerializer,
    ItemSerializer,
    ItemUpsertSerializer,
    MoveSerializer,
    item_list_data,
    item_list_rows,
)
from tracker.api.views.common import (
    BATCH_ERRORS,
    ERROR_EXAMPLE,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    READ_ERRORS,
    UPDATED_SINCE,
    WRITE_ERRORS,
    ordering_param,
)
from tracker.models import BacklogItem, ChangeKind, ItemStatus, Project
from tracker.services.backlog import item_create, item_delete, item_move, item_update
from tracker.services.errors import ValidationError
from tracker.services.sync import Upserted, item_upsert, items_upsert_bulk

ITEM_EXAMPLE = OpenApiExample(
    "An item",
    value={
        "id": "6f1c2d3e-4b5a-4c6d-8e7f-901234567890",
        "key": "SHOP-42",
        "number": 42,
        "url": "https://loopwise.example/acme/SHOP/items/42/",
        "title": "One-page checkout",
        "kind": "story",
        "status": "in_progress",
        "priority": 4,
        "estimate": "5.0",
        "rank": 44040192,
        "description": "Customers abandon the three-step checkout.",
        "acceptance_criteria": "",
        "epic": "SHOP-7",
        "sprint": 12,
        "assignee": "dana",
        "labels": ["checkout"],
        "objectives": [],
        "source": "jira",
        "external_id": "SHOP-1042",
        "feedback_count": 9,
        "customer_count": 7,
        "impact": 14.2,
        "version": 5,
        "created_at": "2026-01-05T09:30:00Z",
        "updated_at": "2026-01-20T16:02:11.512Z",
        "done_at": None,
        "deleted": False,
        "deleted_at": None,
    },
    response_only=True,
)
CREATE_EXAMPLE = OpenApiExample(
    "Create a story",
    value={"title": "One-page checkout", "kind": "story", "estimate": "5", "labels": ["checkout"]},
    request_only=True,
)
UPSERT_EXAMPLE = OpenApiExample(
    "Upsert from Jira",
    value={"title": "One-page checkout", "status": "in_progress", "estimate": "5"},
    request_only=True,
)
BULK_EXAMPLE = OpenApiExample(
    "Two upserts",
    value={
        "items": [
            {"source": "jira", "external_id": "SHOP-1042", "title": "One-page checkout", "status": "ready"},
            {"source": "jira", "external_id": "SHOP-1043", "title": "Guest checkout", "kind": "bug"},
        ]
    },
    request_only=True,
)
BULK_RESULT_EXAMPLE = OpenApiExample(
    "Per-entry results",
    value={
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "results": [
            {
                "index": 0,
                "result": "updated",
                "id": "6f1c2d3e-4b5a-4c6d-8e7f-901234567890",
                "key": "SHOP-42",
                "version": 6,
            },
            {
                "index": 1,
                "result": "created",
                "id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                "key": "SHOP-88",
                "version": 1,
            },
        ],
    },
    response_only=True,
)


def item_queryset() -> QuerySet[BacklogItem]:
    # Constant queries per page: one for the rows (with project, workspace, epic, sprint and
    # assignee joined), one each for labels and objectives.
    return BacklogItem.objects.select_related(
        "project__workspace", "epic", "parent", "sprint", "assignee"
    ).prefetch_related("labels", "objectives")


class ProjectItemsMixin(ApiView):
    project: Project

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.project = self.actor.project(kwargs["key"])

    def item(self, number: int) -> BacklogItem:
        item = item_queryset().filter(project=self.project, number=number, deleted_at__isnull=True).first()
        if item is None:
            raise Http404(f"No item {self.project.key}-{number}.")
        return item

    def item_data(self, item: BacklogItem) -> Any:
        fresh = item_queryset().get(pk=item.pk)
        return ItemSerializer(fresh, context={"request": self.request}).data

    def clean_refs(self, data: dict[str, Any]) -> dict[str, Any]:
        fields = dict(data)
        errors = resolve_item_refs(self.project, [fields])
        if errors:
            raise ValidationError(errors[0])
        return fields


class ItemListView(ProjectItemsMixin):
    serializer_class = ItemSerializer
    queryset = BacklogItem.objects.none()  # the schema's model; requests use get_queryset
    filter_backends = [FilterBackend]
    filterset_class = ItemFilter

    def get_queryset(self) -> QuerySet[BacklogItem]:
        if getattr(self, "swagger_fake_view", False):
            return BacklogItem.objects.none()
        return BacklogItem.objects.filter(project=self.project)

    @extend_schema(
        summary="List the backlog",
        parameters=[UPDATED_SINCE, ordering_param(ITEM_ORDERINGS, "rank")],
        responses={200: ItemSerializer(many=True), **READ_ERRORS},
        examples=[ITEM_EXAMPLE],
    )
    def get(self, request: Request, ws: str, key: str) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        rows = self.page_of(
            item_list_rows(queryset),
            ITEM_ORDERINGS,
            "rank",
            live=Q(deleted_at__isnull=True),
            feed=(self.project.pk, [ChangeKind.ITEM]),
            key="id",
        )
        return self.paginator.get_paginated_response(item_list_data(rows, project=self.project, request=request))

    @extend_schema(
        summary="Create an item",
        request=ItemCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: ItemSerializer, **WRITE_ERRORS},
        examples=[CREATE_EXAMPLE, ITEM_EXAMPLE, ERROR_EXAMPLE],
    )
    def post(self, request: Request, ws: str, key: str) -> Response:
        self.actor.require(Action.EDIT_ITEMS, self.project)
        serializer = ItemCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = self.clean_refs(serializer.validated_data)
        item = item_create(project=self.project, actor=request.user, **fields)
        return self.object_response(self.item_data(item), item.version, status.HTTP_201_CREATED)


class ItemDetailView(ProjectItemsMixin):
    serializer_class = ItemSerializer

    @extend_schema(
        summary="Read an item",
        parameters=[IF_NONE_MATCH],
        responses={200: ItemSerializer, **NOT_MODIFIED, **READ_ERRORS},
        examples=[ITEM_EXAMPLE],
    )
    def get(self, request: Request, ws: str, key: str, number: int) -> Response:
        item = self.item(number)
        return self.object_response(ItemSerializer(item, context={"request": request}).data, item.version)

    def _write(self, request: Request, number: int, serializer_class: type, *, partial: bool) -> Response:
        self.actor.require(Action.EDIT_ITEMS, self.project)
        expected = self.expected_version()
        item = self.item(number)
        serializer = serializer_class(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = self.clean_refs(serializer.validated_data)
        item = item_update(item=item, actor=request.user, expected_version=expected, **fields)
        return self.object_response(self.item_data(item), item.version)

    @extend_schema(
        summary="Change some fields of an item",
        request=ItemUpsertSerializer,
        parameters=[IF_MATCH],
        responses={200: ItemSerializer, **WRITE_ERRORS},
        examples=[UPSERT_EXAMPLE, ITEM_EXAMPLE],
    )
    def patch(self, request: Request, ws: str, key: str, number: int) -> Response:
        return self._write(request, number, ItemUpsertSerializer, partial=True)

    @extend_schema(
        summary="Replace an item (fields not sent go back to their defaults)",
        request=ItemReplaceSerializer,
        parameters=[IF_MATCH],
        responses={200: ItemSerializer, **WRITE_ERRORS},
        examples=[CREATE_EXAMPLE, ITEM_EXAMPLE],
    )
    def put(self, request: Request, ws: str, key: str, number: int) -> Response:
        return self._write(request, number, ItemReplaceSerializer, partial=False)

    @extend_schema(
        summary="Delete an item (it stays as a tombstone for sync clients)",
        parameters=[IF_MATCH],
        responses={204: None, **WRITE_ERRORS},
    )
    def delete(self, request: Request, ws: str, key: str, number: int) -> Response:
        self.actor.require(Action.EDIT_ITEMS, self.project)
        expected = self.expected_version()
        item = self.item(number)
        deleted = item_delete(item=item, actor=request.user, expected_version=expected)
        return Response(status=status.HTTP_204_NO_CONTENT, headers={"ETag": f'"{deleted.version}"'})


class ItemMoveView(ProjectItemsMixin):
    serializer_class = ItemSerializer

    @extend_schema(
        summary="Move an item in the backlog",
        request=MoveSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: ItemSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample("Before SHOP-7", value={"before": 7}, request_only=True),
            OpenApiExample("To the top", value={"position": "top"}, request_only=True),
        ],
    )
    def post(self, request: Request, ws: str, key: str, number: int) -> Response:
        self.actor.require(Action.RANK, self.project)
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        item = self.item(number)
        anchors = {}
        for name in ("before", "after"):
            if name in data:
                anchor = BacklogItem.objects.filter(project=self.project, number=data[name]).first()
                if anchor is None:
                    raise ValidationError({name: f"No item {self.project.key}-{data[name]}."})
                anchors[name] = anchor
        item = item_move(item=item, actor=request.user, position=data.get("position"), **anchors)
        return self.object_response(self.item_data(item), item.version)


class ItemByExternalView(ProjectItemsMixin):
    serializer_class = ItemSerializer

    @extend_schema(
        summary="Read the item with this external id",
        parameters=[IF_NONE_MATCH],
        responses={200: ItemSerializer, **NOT_MODIFIED, **READ_ERRORS},
        examples=[ITEM_EXAMPLE],
    )
    def get(self, request: Request, ws: str, key: str, source: str, external_id: str) -> Response:
        item = (
            item_queryset()
            .filter(project=self.project, source=source, external_id=external_id, deleted_at__isnull=True)
            .first()
        )
        if item is None:
            raise Http404("No item with this external id.")
        return self.object_response(ItemSerializer(item, context={"request": request}).data, item.version)

    @extend_schema(
        summary="Create (201) or update (200) the item with this external id",
        description="Fields not sent keep their value; repeating the same request changes nothing (same version).",
        request=ItemUpsertSerializer,
        parameters=[IF_MATCH],
        responses={200: ItemSerializer, 201: ItemSerializer, **WRITE_ERRORS},
        examples=[UPSERT_EXAMPLE, ITEM_EXAMPLE],
    )
    def put(self, request: Request, ws: str, key: str, source: str, external_id: str) -> Response:
        self.actor.require(Action.EDIT_ITEMS, self.project)
        expected = self.expected_version()
        serializer = ItemUpsertSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = self.clean_refs(serializer.validated_data)
        for name, value in (("source", source), ("external_id", external_id)):
            if name in fields and fields[name] != value:
                raise ValidationError({name: f"Must match the URL ({value!r}) or be left out."})
        result = item_upsert(
            project=self.project,
            actor=request.user,
            source=source,
            external_id=external_id,
            fields=fields,
            expected_version=expected,
        )
        code = status.HTTP_201_CREATED if result.outcome == "created" else status.HTTP_200_OK
        return self.object_response(self.item_data(result.obj), result.obj.version, code)


def bulk_answer(results: list[Upserted], key_of: Any) -> dict[str, Any]:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    rows = []
    for index, result in enumerate(results):
        counts[result.outcome] += 1
        row = {"index": index, "result": result.outcome, "id": result.obj.pk, "version": result.obj.version}
        if key_of is not None:
            row["key"] = key_of(result.obj)
        rows.append(row)
    return {**counts, "results": rows}


def validate_entries(
    raw: list[Any], serializer_class: type
) -> tuple[list[dict[str, Any] | None], dict[int, dict[str, list[str]]]]:
    """Each entry through its serializer; invalid ones become None with their errors by index.

    One serializer instance validates every entry (as DRF's ListSerializer does): building
    the field set once instead of per entry is most of the cost of a 1,000-entry batch.
    """
    child = serializer_class()
    entries: list[dict[str, Any] | None] = []
    errors: dict[int, dict[str, list[str]]] = {}
    for index, entry in enumerate(raw):
        try:
            entries.append(dict(child.run_validation(entry)))
        except DRFValidationError as exc:
            entries.append(None)
            errors[index] = flatten(exc.detail)
    return entries, errors


class ItemBulkView(ProjectItemsMixin):
    serializer_class = ItemSerializer

    @extend_schema(
        summary="Upsert up to 1,000 items by source and external id, in one transaction",
        description=(
            "Each entry needs `source` and `external_id`; other fields are set when sent. All or nothing: "
            "any invalid entry rejects the batch with 400, listing each bad entry by index."
        ),
        request=BulkItemsSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: BulkResultSerializer, **BATCH_ERRORS},
        examples=[BULK_EXAMPLE, BULK_RESULT_EXAMPLE],
    )
    def post(self, request: Request, ws: str, key: str) -> Response:
        self.actor.require(Action.EDIT_ITEMS, self.project)
        serializer = BulkItemsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entries, errors = validate_entries(serializer.validated_data["items"], BulkItemSerializer)
        valid = [(i, e) for i, e in enumerate(entries) if e is not None]
        ref_errors = resolve_item_refs(self.project, [e for _, e in valid])
        for position, bad in ref_errors.items():
            index = valid[position][0]
            errors[index] = bad
            entries[index] = None
        results = items_upsert_bulk(project=self.project, actor=request.user, entries=entries, errors=errors)
        project_key = self.project.key
        return Response(bulk_answer(results, lambda item: f"{project_key}-{item.number}"))


class FirstRenderer(BaseContentNegotiation):
    """Answers in the view's first renderer whatever Accept says: the export's body is CSV
    (not rendered by DRF), so `Accept: text/csv` must not be a 406 and errors stay JSON."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        renderer: BaseRenderer = renderers[0]
        return renderer, renderer.media_type


EXPORT_STATUS = OpenApiParameter(
    "status",
    str,
    description=f"Only items in these statuses, comma separated ({', '.join(ItemStatus.values)}).",
)


def statuses_of(request: Request) -> list[str]:
    """The statuses of `?status=`, comma separated or repeated; 400 for an unknown one."""
    wanted = [name.strip() for raw in request.query_params.getlist("status") for name in raw.split(",")]
    wanted = [name for name in wanted if name]
    unknown = sorted(set(wanted) - set(ItemStatus.values))
    if unknown:
        raise ValidationError(
            {"status": f"Unknown status {', '.join(unknown)}; one of {', '.join(ItemStatus.values)}."}
        )
    return wanted


class ItemExportView(ProjectItemsMixin):
    content_negotiation_class = FirstRenderer

    @extend_schema(
        summary="Export the backlog as a Jira CSV",
        operation_id="workspaces_projects_items_export_csv",
        description=(
            "Every live item in rank order, in the columns of Jira's CSV export (one `Labels` column per label, "
            "dates as `22/Sep/25 9:26 AM` in UTC), UTF-8 with a BOM: Jira's CSV importer and Loopwise's read it."
        ),
        parameters=[EXPORT_STATUS],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file, streamed."),
            **READ_ERRORS,
        },
    )
    def get(self, request: Request, ws: str, key: str) -> StreamingHttpResponse:
        items = BacklogItem.objects.in_project(self.project)
        statuses = statuses_of(request)
        if statuses:
            items = items.filter(status__in=statuses)
        response = StreamingHttpResponse(
            jira_csv(items, project_key=self.project.key), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{self.project.key}-items.csv"'
        return response
