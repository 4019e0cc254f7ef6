"""Feedback: list, create, read, edit and triage, delete, upsert by external id, bulk, links."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.access import Action
from tracker.api.base import ApiView
from tracker.api.filters import FEEDBACK_ORDERINGS, FeedbackFilter, FilterBackend
from tracker.api.refs import resolve_customers
from tracker.api.serializers.common import BulkResultSerializer
from tracker.api.serializers.feedback import (
    BulkFeedbackEntrySerializer,
    BulkFeedbackSerializer,
    FeedbackCreateSerializer,
    FeedbackPatchSerializer,
    FeedbackSerializer,
    FeedbackUpsertSerializer,
    LinkCreateSerializer,
    LinkSerializer,
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
from tracker.api.views.items import bulk_answer, validate_entries
from tracker.models import BacklogItem, ChangeKind, Feedback, FeedbackLink, TriageState
from tracker.services.errors import ValidationError
from tracker.services.feedback import (
    feedback_accept,
    feedback_create,
    feedback_delete,
    feedback_dismiss,
    feedback_link,
    feedback_mark_duplicate,
    feedback_reopen,
    feedback_unlink,
    feedback_update,
)
from tracker.services.sync import feedback_upsert, feedback_upsert_bulk

FEEDBACK_EXAMPLE = OpenApiExample(
    "Feedback with a link",
    value={
        "id": "c2a9e0d4-1f3b-4a5c-9d7e-2b4f6a8c0e1d",
        "title": "Checkout is slow",
        "body": "It takes me five clicks to pay.",
        "channel": "support",
        "received_at": "2026-01-04T14:22:00Z",
        "nps": 4,
        "csat": None,
        "ces": 6,
        "tags": ["checkout"],
        "customer": "b7d1a3f0-2c4e-4f6a-8b9c-0d1e2f3a4b5c",
        "customer_name": "Ada Lovelace",
        "triage": "accepted",
        "duplicate_of": None,
        "loop_state": "in_progress",
        "addressed_at": None,
        "notified_at": None,
        "source": "zendesk",
        "external_id": "ticket-9001",
        "links": [
            {
                "id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
                "feedback": "c2a9e0d4-1f3b-4a5c-9d7e-2b4f6a8c0e1d",
                "item": "SHOP-42",
                "item_id": "6f1c2d3e-4b5a-4c6d-8e7f-901234567890",
                "quote": "five clicks to pay",
                "linked_by": "olivia",
                "version": 1,
                "created_at": "2026-01-05T09:31:00Z",
                "updated_at": "2026-01-05T09:31:00Z",
                "deleted": False,
            }
        ],
        "version": 4,
        "created_at": "2026-01-04T14:23:00Z",
        "updated_at": "2026-01-05T09:31:00Z",
        "deleted": False,
    },
    response_only=True,
)


def feedback_queryset() -> QuerySet[Feedback]:
    # Constant per page: the rows with their customer, then all their links with item and project.
    links = FeedbackLink.objects.select_related("item__project", "linked_by").order_by("created_at", "id")
    return Feedback.objects.select_related("customer").prefetch_related(Prefetch("links", queryset=links))


class FeedbackMixin(ApiView):
    serializer_class = FeedbackSerializer
    queryset = Feedback.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.actor.require(Action.VIEW_FEEDBACK)

    def feedback(self, pk: Any) -> Feedback:
        feedback = feedback_queryset().filter(workspace=self.workspace, pk=pk).first()
        if feedback is None:
            raise Http404("No such feedback.")
        return feedback

    def answer(self, feedback: Feedback, code: int = status.HTTP_200_OK) -> Response:
        fresh = feedback_queryset().get(pk=feedback.pk)
        return self.object_response(FeedbackSerializer(fresh).data, fresh.version, code)

    def clean_customer(self, fields: dict[str, Any]) -> dict[str, Any]:
        fields = dict(fields)
        errors = resolve_customers(self.workspace, [fields])
        if errors:
            raise ValidationError(errors[0])
        return fields


class FeedbackListView(FeedbackMixin):
    filter_backends = [FilterBackend]
    filterset_class = FeedbackFilter

    def get_queryset(self) -> QuerySet[Feedback]:
        if getattr(self, "swagger_fake_view", False):
            return Feedback.objects.none()
        return feedback_queryset().filter(workspace=self.workspace)

    @extend_schema(
        summary="List feedback",
        parameters=[UPDATED_SINCE, ordering_param(FEEDBACK_ORDERINGS, "-received_at")],
        responses={200: FeedbackSerializer(many=True), **READ_ERRORS},
        examples=[FEEDBACK_EXAMPLE],
    )
    def get(self, request: Request, ws: str) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        rows = self.page_of(
            queryset, FEEDBACK_ORDERINGS, "-received_at", feed=(self.workspace.pk, [ChangeKind.FEEDBACK])
        )
        return self.paginator.get_paginated_response(FeedbackSerializer(rows, many=True).data)

    @extend_schema(
        summary="Record feedback",
        request=FeedbackCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: FeedbackSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "From support",
                value={
                    "body": "It takes me five clicks to pay.",
                    "channel": "support",
                    "customer_email": "ada@example.com",
                    "nps": 4,
                },
                request_only=True,
            ),
            FEEDBACK_EXAMPLE,
            ERROR_EXAMPLE,
        ],
    )
    def post(self, request: Request, ws: str) -> Response:
        self.actor.require(Action.CREATE_FEEDBACK)
        serializer = FeedbackCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = self.clean_customer(serializer.validated_data)
        feedback = feedback_create(workspace=self.workspace, actor=request.user, **fields)
        return self.answer(feedback, status.HTTP_201_CREATED)


TRIAGE = {
    TriageState.ACCEPTED: feedback_accept,
    TriageState.DISMISSED: feedback_dismiss,
    TriageState.NEW: feedback_reopen,
}


class FeedbackDetailView(FeedbackMixin):
    @extend_schema(
        summary="Read feedback with its links",
        parameters=[IF_NONE_MATCH],
        responses={200: FeedbackSerializer, **NOT_MODIFIED, **READ_ERRORS},
        examples=[FEEDBACK_EXAMPLE],
    )
    def get(self, request: Request, ws: str, pk: Any) -> Response:
        feedback = self.feedback(pk)
        return self.object_response(FeedbackSerializer(feedback).data, feedback.version)

    @extend_schema(
        summary="Edit or triage feedback",
        description="`triage` accepts, dismisses or reopens; `triage: duplicate` with `duplicate_of` merges it.",
        request=FeedbackPatchSerializer,
        parameters=[IF_MATCH],
        responses={200: FeedbackSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample("Accept", value={"triage": "accepted"}, request_only=True), FEEDBACK_EXAMPLE],
    )
    def patch(self, request: Request, ws: str, pk: Any) -> Response:
        self.actor.require(Action.TRIAGE_FEEDBACK)
        expected = self.expected_version()
        feedback = self.feedback(pk)
        serializer = FeedbackPatchSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = self.clean_customer(serializer.validated_data)
        triage = fields.pop("triage", None)
        duplicate_of = fields.pop("duplicate_of", None)
        original = None
        if triage == TriageState.DUPLICATE:
            original = Feedback.objects.filter(workspace=self.workspace, pk=duplicate_of).first()
            if original is None:
                raise ValidationError({"duplicate_of": "No such feedback in this workspace."})
        # Both services run in the request's one transaction (ApiView.atomic_writes).
        feedback = feedback_update(feedback=feedback, actor=request.user, expected_version=expected, **fields)
        if original is not None:
            feedback = feedback_mark_duplicate(feedback=feedback, original=original, actor=request.user)
        elif triage is not None:
            feedback = TRIAGE[TriageState(triage)](feedback=feedback, actor=request.user)
        return self.answer(feedback)

    @extend_schema(
        summary="Delete feedback (its links go; sync clients get a tombstone)",
        parameters=[IF_MATCH],
        responses={204: None, **WRITE_ERRORS},
    )
    def delete(self, request: Request, ws: str, pk: Any) -> Response:
        self.actor.require(Action.TRIAGE_FEEDBACK)
        expected = self.expected_version()
        feedback = self.feedback(pk)
        feedback_delete(feedback=feedback, actor=request.user, expected_version=expected)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedbackByExternalView(FeedbackMixin):
    @extend_schema(
        summary="Read the feedback with this external id",
        parameters=[IF_NONE_MATCH],
        responses={200: FeedbackSerializer, **NOT_MODIFIED, **READ_ERRORS},
        examples=[FEEDBACK_EXAMPLE],
    )
    def get(self, request: Request, ws: str, source: str, external_id: str) -> Response:
        feedback = feedback_queryset().filter(workspace=self.workspace, source=source, external_id=external_id).first()
        if feedback is None:
            raise Http404("No feedback with this external id.")
        return self.object_response(FeedbackSerializer(feedback).data, feedback.version)

    @extend_schema(
        summary="Create (201) or update (200) the feedback with this external id",
        request=FeedbackUpsertSerializer,
        parameters=[IF_MATCH],
        responses={200: FeedbackSerializer, 201: FeedbackSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "From Zendesk",
                value={"body": "It takes me five clicks to pay.", "channel": "support"},
                request_only=True,
            ),
            FEEDBACK_EXAMPLE,
        ],
    )
    def put(self, request: Request, ws: str, source: str, external_id: str) -> Response:
        self.actor.require(Action.TRIAGE_FEEDBACK)
        expected = self.expected_version()
        serializer = FeedbackUpsertSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = self.clean_customer(serializer.validated_data)
        for name, value in (("source", source), ("external_id", external_id)):
            if name in fields and fields[name] != value:
                raise ValidationError({name: f"Must match the URL ({value!r}) or be left out."})
        result = feedback_upsert(
            workspace=self.workspace,
            actor=request.user,
            source=source,
            external_id=external_id,
            fields=fields,
            expected_version=expected,
        )
        code = status.HTTP_201_CREATED if result.outcome == "created" else status.HTTP_200_OK
        return self.answer(result.obj, code)


class FeedbackBulkView(FeedbackMixin):
    @extend_schema(
        summary="Upsert up to 1,000 feedback by source and external id, in one transaction",
        request=BulkFeedbackSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: BulkResultSerializer, **BATCH_ERRORS},
        examples=[
            OpenApiExample(
                "One entry",
                value={
                    "feedback": [{"source": "zendesk", "external_id": "ticket-9001", "body": "Five clicks to pay."}]
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, ws: str) -> Response:
        self.actor.require(Action.TRIAGE_FEEDBACK)
        serializer = BulkFeedbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entries, errors = validate_entries(serializer.validated_data["feedback"], BulkFeedbackEntrySerializer)
        valid = [(i, e) for i, e in enumerate(entries) if e is not None]
        for position, bad in resolve_customers(self.workspace, [e for _, e in valid]).items():
            index = valid[position][0]
            errors[index] = bad
            entries[index] = None
        results = feedback_upsert_bulk(workspace=self.workspace, actor=request.user, entries=entries, errors=errors)
        return Response(bulk_answer(results, None))


class FeedbackLinksView(FeedbackMixin):
    serializer_class = LinkSerializer
    queryset = FeedbackLink.objects.none()
    # One feedback has a handful of links: the list comes whole, and the schema says so
    # (with the default paginator it documented a {next, results} page it never sent).
    pagination_class = None

    @extend_schema(
        summary="The items this feedback is linked to", responses={200: LinkSerializer(many=True), **READ_ERRORS}
    )
    def get(self, request: Request, ws: str, pk: Any) -> Response:
        feedback = self.feedback(pk)
        return Response(LinkSerializer(feedback.links.all(), many=True).data)

    @extend_schema(
        summary="Link feedback to an item with the quote it answers (linking again updates the quote)",
        request=LinkCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: LinkSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample("Link", value={"item": "SHOP-42", "quote": "five clicks to pay"}, request_only=True)],
    )
    def post(self, request: Request, ws: str, pk: Any) -> Response:
        self.actor.require(Action.TRIAGE_FEEDBACK)
        feedback = self.feedback(pk)
        serializer = LinkCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = item_by_key(self, serializer.validated_data["item"], field="item")
        link = feedback_link(
            feedback=feedback, item=item, actor=request.user, quote=serializer.validated_data.get("quote", "")
        )
        link = FeedbackLink.objects.select_related("item__project", "linked_by").get(pk=link.pk)
        return self.object_response(LinkSerializer(link).data, link.version, status.HTTP_201_CREATED)


def item_by_key(view: ApiView, key: str, *, field: str | None = None) -> BacklogItem:
    """The live item `KEY-number` of a project the actor may see; 404 (or a field error) else."""
    project_key, _, number = key.rpartition("-")
    if not project_key or not number.isdigit():
        raise Http404("No such item.")
    project = view.actor.project(project_key)
    item = (
        BacklogItem.objects.select_related("project")
        .filter(project=project, number=int(number), deleted_at__isnull=True)
        .first()
    )
    if item is None:
        if field:
            raise ValidationError({field: f"No item {key}."})
        raise Http404(f"No item {key}.")
    return item


class FeedbackLinkDetailView(FeedbackMixin):
    serializer_class = LinkSerializer

    @extend_schema(summary="Unlink feedback from an item", responses={204: None, **WRITE_ERRORS})
    def delete(self, request: Request, ws: str, pk: Any, item_key: str) -> Response:
        self.actor.require(Action.TRIAGE_FEEDBACK)
        feedback = self.feedback(pk)
        item = item_by_key(self, item_key)
        if not FeedbackLink.objects.filter(feedback=feedback, item=item).exists():
            raise Http404(f"This feedback is not linked to {item_key}.")
        feedback_unlink(feedback=feedback, item=item, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
