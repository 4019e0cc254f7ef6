"""Sprints: plan, edit, start, close, and the review."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.access import Action
from tracker.api.base import ApiView
from tracker.api.filters import SPRINT_ORDERINGS, FilterBackend, SprintFilter
from tracker.api.serializers.planning import SprintCloseSerializer, SprintSerializer, SprintWriteSerializer
from tracker.api.views.common import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    READ_ERRORS,
    UPDATED_SINCE,
    WRITE_ERRORS,
    ordering_param,
)
from tracker.models import ChangeKind, Project, Sprint
from tracker.services.errors import ValidationError
from tracker.services.review import sprint_review
from tracker.services.sprints import sprint_close, sprint_create, sprint_start, sprint_update

SPRINT_EXAMPLE = OpenApiExample(
    "A sprint",
    value={
        "id": "3b0f6f0e-8f55-4d1e-9a3c-0d6f2b1e7a10",
        "number": 12,
        "name": "Sprint 12",
        "goal": "Checkout in one page",
        "start_date": "2026-01-12",
        "end_date": "2026-01-25",
        "capacity": 30,
        "state": "active",
        "started_at": "2026-01-12T09:00:00Z",
        "closed_at": None,
        "commitment": {"points": 28.0, "items": [], "capacity": 30},
        "completed_points": None,
        "version": 3,
        "created_at": "2026-01-09T10:00:00Z",
        "updated_at": "2026-01-12T09:00:00Z",
    },
    response_only=True,
)


class ProjectSprintsMixin(ApiView):
    project: Project

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.project = self.actor.project(kwargs["key"])

    def sprint(self, number: int) -> Sprint:
        sprint = Sprint.objects.select_related("project__workspace").filter(project=self.project, number=number).first()
        if sprint is None:
            raise Http404(f"No sprint {number} in {self.project.key}.")
        return sprint

    def answer(self, sprint: Sprint, code: int = status.HTTP_200_OK) -> Response:
        return self.object_response(SprintSerializer(sprint).data, sprint.version, code)


class SprintListView(ProjectSprintsMixin):
    serializer_class = SprintSerializer
    filter_backends = [FilterBackend]
    filterset_class = SprintFilter
    queryset = Sprint.objects.none()

    def get_queryset(self) -> QuerySet[Sprint]:
        if getattr(self, "swagger_fake_view", False):
            return Sprint.objects.none()
        return Sprint.objects.filter(project=self.project)

    @extend_schema(
        summary="List sprints",
        parameters=[UPDATED_SINCE, ordering_param(SPRINT_ORDERINGS, "-number")],
        responses={200: SprintSerializer(many=True), **READ_ERRORS},
        examples=[SPRINT_EXAMPLE],
    )
    def get(self, request: Request, ws: str, key: str) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        rows = self.page_of(queryset, SPRINT_ORDERINGS, "-number", feed=(self.project.pk, [ChangeKind.SPRINT]))
        return self.paginator.get_paginated_response(SprintSerializer(rows, many=True).data)

    @extend_schema(
        summary="Plan a sprint",
        request=SprintWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: SprintSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "Two weeks", value={"name": "Sprint 13", "start_date": "2026-01-26", "capacity": 30}, request_only=True
            ),
            SPRINT_EXAMPLE,
        ],
    )
    def post(self, request: Request, ws: str, key: str) -> Response:
        self.actor.require(Action.MANAGE_SPRINTS, self.project)
        serializer = SprintWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sprint = sprint_create(project=self.project, actor=request.user, **serializer.validated_data)
        return self.answer(sprint, status.HTTP_201_CREATED)


class SprintDetailView(ProjectSprintsMixin):
    serializer_class = SprintSerializer

    @extend_schema(
        summary="Read a sprint",
        parameters=[IF_NONE_MATCH],
        responses={200: SprintSerializer, **NOT_MODIFIED, **READ_ERRORS},
        examples=[SPRINT_EXAMPLE],
    )
    def get(self, request: Request, ws: str, key: str, number: int) -> Response:
        return self.answer(self.sprint(number))

    @extend_schema(
        summary="Change a sprint",
        request=SprintWriteSerializer,
        parameters=[IF_MATCH],
        responses={200: SprintSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample("New goal", value={"goal": "Checkout in one page"}, request_only=True),
            SPRINT_EXAMPLE,
        ],
    )
    def patch(self, request: Request, ws: str, key: str, number: int) -> Response:
        self.actor.require(Action.MANAGE_SPRINTS, self.project)
        expected = self.expected_version()
        sprint = self.sprint(number)
        serializer = SprintWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        sprint = sprint_update(
            sprint=sprint, actor=request.user, expected_version=expected, **serializer.validated_data
        )
        return self.answer(sprint)


class SprintStartView(ProjectSprintsMixin):
    serializer_class = SprintSerializer

    @extend_schema(
        summary="Start a planned sprint (freezes the commitment)",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: SprintSerializer, **WRITE_ERRORS},
        examples=[SPRINT_EXAMPLE],
    )
    def post(self, request: Request, ws: str, key: str, number: int) -> Response:
        self.actor.require(Action.MANAGE_SPRINTS, self.project)
        sprint = sprint_start(sprint=self.sprint(number), actor=request.user)
        return self.answer(sprint)


class SprintCloseView(ProjectSprintsMixin):
    serializer_class = SprintSerializer

    @extend_schema(
        summary="Close the active sprint (unfinished items go back to the backlog or to carry_over_to)",
        request=SprintCloseSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: SprintSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample("Carry over", value={"carry_over_to": 13}, request_only=True), SPRINT_EXAMPLE],
    )
    def post(self, request: Request, ws: str, key: str, number: int) -> Response:
        self.actor.require(Action.MANAGE_SPRINTS, self.project)
        serializer = SprintCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = serializer.validated_data.get("carry_over_to")
        carry_over_to = None
        if target is not None:
            carry_over_to = Sprint.objects.filter(project=self.project, number=target).first()
            if carry_over_to is None:
                raise ValidationError({"carry_over_to": f"No sprint {target} in {self.project.key}."})
        sprint = sprint_close(sprint=self.sprint(number), actor=request.user, carry_over_to=carry_over_to)
        return self.answer(sprint)


class SprintReviewView(ProjectSprintsMixin):
    serializer_class = SprintSerializer

    @extend_schema(
        summary="The sprint review: live while the sprint runs, frozen at close",
        responses={200: OpenApiTypes.OBJECT, **READ_ERRORS},
        examples=[
            OpenApiExample(
                "Review (abridged)",
                value={"sprint": {"number": 12, "name": "Sprint 12"}, "addressed": [], "totals": {"customers": 7}},
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, ws: str, key: str, number: int) -> Response:
        self.actor.require(Action.VIEW, self.project)
        self.actor.require(Action.VIEW_FEEDBACK)  # quotes, customers and their value: not for guests
        sprint = self.sprint(number)
        review = sprint.review_snapshot if sprint.review_snapshot is not None else sprint_review(sprint, live=True)
        return Response(review)
