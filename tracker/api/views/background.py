"""Imports, similarity suggestions and webhook delivery logs over the API."""

from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.access import Action, import_right
from tracker.api.base import ApiView
from tracker.api.serializers.background import (
    DeliverySerializer,
    ImportCreateSerializer,
    ImportJobSerializer,
    ImportStartSerializer,
    SuggestionsSerializer,
    import_data,
)
from tracker.api.views.common import READ_ERRORS, WRITE_ERRORS
from tracker.api.views.integrations import WebhooksMixin
from tracker.models import Feedback, ImportJob, ImportKind, Webhook, WebhookDelivery
from tracker.services.imports import import_confirm, import_start, import_status, job_report
from tracker.services.similarity import suggestions_for
from tracker.services.webhooks import webhook_redeliver

IMPORT_EXAMPLE = OpenApiExample(
    "A finished import",
    value={
        "id": "0b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
        "kind": "feedback",
        "format": "csv",
        "filename": "reviews.csv",
        "encoding": "utf-8",
        "project": None,
        "source": "appstore",
        "status": "done",
        "rows_total": 3,
        "rows_estimated": False,
        "rows_done": 3,
        "progress": 1.0,
        "created": 2,
        "updated": 0,
        "skipped": 0,
        "error_count": 1,
        "errors": [{"line": 4, "reason": "NPS must be a whole number from 0 to 10, not 11"}],
        "message": "2 created, 0 updated, 0 skipped, 1 row with errors.",
        "preview": None,
        "reading": False,
        "created_at": "2026-01-01T10:00:00Z",
        "started_at": "2026-01-01T10:00:00Z",
        "finished_at": "2026-01-01T10:00:01Z",
        "url": "https://loopwise.example.com/acme/imports/0b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d/",
    },
    response_only=True,
)


class ImportsMixin(ApiView):
    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.none()

    def jobs(self) -> Any:
        """Feedback imports, and backlog imports into projects the caller may see."""
        self.actor.require(Action.VIEW_FEEDBACK)
        return (
            ImportJob.objects.filter(workspace=self.workspace)
            .filter(Q(kind=ImportKind.FEEDBACK) | Q(project__in=self.actor.projects()))
            .select_related("project")
        )

    def job_data(self, job: ImportJob, report: dict[str, Any] | None = None) -> dict[str, Any]:
        path = reverse("import_job", kwargs={"ws": self.workspace.slug, "pk": job.pk})
        data = import_data(job, report or job_report(job), self.request.build_absolute_uri(path))
        return ImportJobSerializer(data).data


class ImportListView(ImportsMixin):
    parser_classes = [MultiPartParser, FormParser]

    def max_body(self) -> int:
        return int(settings.IMPORT_MAX_BYTES) + 64 * 1024  # the file plus the form's other fields

    @extend_schema(
        summary="Recent imports, newest first",
        responses={200: ImportJobSerializer(many=True), **READ_ERRORS},
        examples=[IMPORT_EXAMPLE],
    )
    def get(self, request: Request, ws: str) -> Response:
        rows = self.paginator.paginate(self.jobs(), request, ("-created_at", "-id"))
        return self.paginator.get_paginated_response([self.job_data(job) for job in rows])

    @extend_schema(
        summary="Upload a feedback or backlog file; it is imported in the background",
        description=(
            "Feedback (CSV, JSON array or JSON Lines, Google Play / App Store review exports, support-desk "
            "tickets; needs the right to triage feedback) or a backlog (Jira CSV or JSON, GitHub issues JSON, "
            "Linear CSV, Trello board JSON into `project`; needs edit rights there). A file that is empty, too "
            "large, not text, not CSV/JSON or has no usable columns is refused with 400 and nothing is written. "
            "With `dry_run` (field or `?dry_run=1`) the file is only read: 200 with the job in status `preview` "
            "and its `preview` (for a file over 8 MB, `reading` until it is there); POST …/start/ imports it. "
            "A file found cut off or malformed writes nothing and the job says where it broke. Follow `url` "
            "or GET the job for progress and the report. docs/imports.md has every mapping."
        ),
        request={"multipart/form-data": ImportCreateSerializer},
        responses={202: ImportJobSerializer, **WRITE_ERRORS},
        examples=[IMPORT_EXAMPLE],
    )
    def post(self, request: Request, ws: str) -> Response:
        serializer = ImportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = None
        if data["kind"] == ImportKind.FEEDBACK:
            self.actor.require(Action.TRIAGE_FEEDBACK)
        elif data.get("project"):
            project = self.actor.project(data["project"])
            self.actor.require(Action.EDIT_ITEMS, project)
        # (a backlog without a project: import_start answers which field is missing)
        upload = data["file"]
        dry_run = data.get("dry_run") or request.query_params.get("dry_run") in ("1", "true", "yes")
        job = import_start(
            workspace=self.workspace,
            actor=request.user,
            kind=data["kind"],
            filename=upload.name,
            data=upload,
            project=project,
            source=data.get("source", ""),
            preview=bool(dry_run),
            statuses=data.get("statuses"),
        )
        job = ImportJob.objects.select_related("project").get(pk=job.pk)
        answer = status.HTTP_200_OK if dry_run else status.HTTP_202_ACCEPTED
        return Response(self.job_data(job), status=answer)


class ImportDetailView(ImportsMixin):
    @extend_schema(
        summary="An import's progress and, once done, its report",
        responses={200: ImportJobSerializer, **READ_ERRORS},
        examples=[IMPORT_EXAMPLE],
    )
    def get(self, request: Request, ws: str, pk: Any) -> Response:
        job = self.jobs().filter(pk=pk).first()
        if job is None:
            raise Http404("No such import.")
        return Response(self.job_data(job, import_status(job)))


class ImportStartView(ImportsMixin):
    @extend_schema(
        summary="Start a previewed import (optionally with a status mapping)",
        description=(
            "A job uploaded with `dry_run` waits in status `preview`; this starts it. `statuses` maps the "
            "file's status names to Loopwise statuses for a backlog import."
        ),
        request=ImportStartSerializer,
        responses={202: ImportJobSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, ws: str, pk: Any) -> Response:
        job = self.jobs().filter(pk=pk).first()
        if job is None:
            raise Http404("No such import.")
        self.actor.require(*import_right(job))
        serializer = ImportStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = import_confirm(job, statuses=serializer.validated_data.get("statuses"))
        job = ImportJob.objects.select_related("project").get(pk=job.pk)
        return Response(self.job_data(job), status=status.HTTP_202_ACCEPTED)


class FeedbackSuggestionsView(ApiView):
    serializer_class = SuggestionsSerializer
    queryset = Feedback.objects.none()

    @extend_schema(
        summary="Likely duplicates and matching backlog items for a feedback",
        description="Computed in the background when feedback arrives; only this workspace's data.",
        responses={200: SuggestionsSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, ws: str, pk: Any) -> Response:
        self.actor.require(Action.VIEW_FEEDBACK)
        feedback = self.owned(Feedback.objects, pk, "feedback")
        return Response(SuggestionsSerializer(suggestions_for(feedback)).data)


class DeliveriesMixin(WebhooksMixin):
    serializer_class = DeliverySerializer
    queryset = WebhookDelivery.objects.none()

    def webhook(self, pk: Any) -> Webhook:
        return self.owned(Webhook.objects, pk, "webhook")


class DeliveryListView(DeliveriesMixin):
    @extend_schema(
        summary="A webhook's delivery log, newest first (workspace admins)",
        responses={200: DeliverySerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, ws: str, pk: Any) -> Response:
        deliveries = WebhookDelivery.objects.filter(webhook=self.webhook(pk))
        rows = self.paginator.paginate(deliveries, request, ("-created_at", "-id"))
        return self.paginator.get_paginated_response(DeliverySerializer(rows, many=True).data)


class DeliveryRedeliverView(DeliveriesMixin):
    atomic_writes = True  # no URL check here: the send happens after commit

    @extend_schema(
        summary="Send a delivery's event again, as a new delivery",
        request=None,
        responses={202: DeliverySerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, ws: str, pk: Any, delivery_id: Any) -> Response:
        delivery = WebhookDelivery.objects.filter(webhook=self.webhook(pk), pk=delivery_id).first()
        if delivery is None:
            raise Http404("No such delivery.")
        copy = webhook_redeliver(delivery=delivery)
        return Response(DeliverySerializer(copy).data, status=status.HTTP_202_ACCEPTED)
