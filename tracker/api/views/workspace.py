"""Workspaces, members, projects and objectives."""

from collections import defaultdict
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.access import Action, workspaces_of
from tracker.api.authentication import token_of
from tracker.api.base import ApiView
from tracker.api.serializers.planning import (
    ObjectiveSerializer,
    ObjectiveWriteSerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
    ProjectWriteSerializer,
)
from tracker.api.serializers.workspace import MemberSerializer, WorkspaceSerializer
from tracker.api.views.common import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    READ_ERRORS,
    WRITE_ERRORS,
)
from tracker.models import Membership, Objective, Project, ProjectMembership, Workspace
from tracker.services.projects import objective_save, project_create, project_update

WORKSPACE_EXAMPLE = OpenApiExample(
    "A workspace",
    value={
        "id": "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "slug": "acme",
        "name": "Acme",
        "currency": "EUR",
        "segment_weights": {"end_customer": 1.0, "employee": 0.8, "management": 1.5, "partner": 1.2},
        "tier_weights": {"free": 0.5, "standard": 1.0, "premium": 1.5, "enterprise": 2.0},
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    },
    response_only=True,
)
PROJECT_EXAMPLE = OpenApiExample(
    "A project",
    value={
        "id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
        "key": "SHOP",
        "name": "Online shop",
        "description": "",
        "mix_end_customer": 70,
        "mix_employee": 10,
        "mix_management": 10,
        "mix_partner": 10,
        "default_sprint_days": 14,
        "notify_customers": True,
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    },
    response_only=True,
)


class WorkspaceListView(ApiView):
    serializer_class = WorkspaceSerializer
    queryset = Workspace.objects.none()

    @extend_schema(
        summary="Workspaces you belong to",
        responses={200: WorkspaceSerializer(many=True), **READ_ERRORS},
        examples=[WORKSPACE_EXAMPLE],
    )
    def get(self, request: Request) -> Response:
        workspaces = workspaces_of(request.user)
        token = token_of(request)
        if token is not None:
            workspaces = workspaces.filter(pk=token.workspace_id)
        rows = self.paginator.paginate(workspaces, request, ("slug", "id"))
        return self.paginator.get_paginated_response(WorkspaceSerializer(rows, many=True).data)


class WorkspaceDetailView(ApiView):
    serializer_class = WorkspaceSerializer
    queryset = Workspace.objects.none()

    @extend_schema(
        summary="A workspace",
        parameters=[IF_NONE_MATCH],
        responses={200: WorkspaceSerializer, **NOT_MODIFIED, **READ_ERRORS},
        examples=[WORKSPACE_EXAMPLE],
    )
    def get(self, request: Request, ws: str) -> Response:
        return self.object_response(WorkspaceSerializer(self.workspace).data, self.workspace.version)


class MemberListView(ApiView):
    serializer_class = MemberSerializer
    queryset = Membership.objects.none()

    @extend_schema(
        summary="Members with their workspace and project roles",
        responses={200: MemberSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, ws: str) -> Response:
        memberships = Membership.objects.filter(workspace=self.workspace).select_related("user")
        rows = self.paginator.paginate(memberships, request, ("id",))
        roles: dict[Any, dict[str, str]] = defaultdict(dict)
        project_roles = ProjectMembership.objects.filter(
            project__workspace=self.workspace, user_id__in=[m.user_id for m in rows]
        ).values_list("user_id", "project__key", "role")
        visible = {p.key for p in self.actor.projects()}
        for user_id, key, role in project_roles:
            if key in visible:
                roles[user_id][key] = role
        data = MemberSerializer(rows, many=True, context={"project_roles": roles}).data
        return self.paginator.get_paginated_response(data)


class ProjectListView(ApiView):
    serializer_class = ProjectSerializer
    queryset = Project.objects.none()

    @extend_schema(
        summary="Projects you can see",
        responses={200: ProjectSerializer(many=True), **READ_ERRORS},
        examples=[PROJECT_EXAMPLE],
    )
    def get(self, request: Request, ws: str) -> Response:
        rows = self.paginator.paginate(self.actor.projects(), request, ("key", "id"))
        return self.paginator.get_paginated_response(ProjectSerializer(rows, many=True).data)

    @extend_schema(
        summary="Create a project (workspace admins)",
        request=ProjectCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: ProjectSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample("Shop", value={"key": "SHOP", "name": "Online shop"}, request_only=True),
            PROJECT_EXAMPLE,
        ],
    )
    def post(self, request: Request, ws: str) -> Response:
        self.actor.require(Action.MANAGE_WORKSPACE)
        serializer = ProjectCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = project_create(workspace=self.workspace, **serializer.validated_data)
        return self.object_response(ProjectSerializer(project).data, project.version, status.HTTP_201_CREATED)


class ProjectDetailView(ApiView):
    serializer_class = ProjectSerializer
    queryset = Project.objects.none()

    @extend_schema(
        summary="A project",
        parameters=[IF_NONE_MATCH],
        responses={200: ProjectSerializer, **NOT_MODIFIED, **READ_ERRORS},
        examples=[PROJECT_EXAMPLE],
    )
    def get(self, request: Request, ws: str, key: str) -> Response:
        project = self.actor.project(key)
        return self.object_response(ProjectSerializer(project).data, project.version)

    @extend_schema(
        summary="Change a project's settings (product owner or admin)",
        request=ProjectWriteSerializer,
        parameters=[IF_MATCH],
        responses={200: ProjectSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample("Rename", value={"name": "Web shop"}, request_only=True), PROJECT_EXAMPLE],
    )
    def patch(self, request: Request, ws: str, key: str) -> Response:
        project = self.actor.project(key)
        self.actor.require(Action.MANAGE_PROJECT, project)
        expected = self.expected_version()
        serializer = ProjectWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        project = project_update(project=project, expected_version=expected, **serializer.validated_data)
        return self.object_response(ProjectSerializer(project).data, project.version)


OBJECTIVE_EXAMPLE = OpenApiExample(
    "An objective",
    value={
        "id": "7c6b5a49-3827-4a16-9f0e-d1c2b3a49586",
        "title": "Faster checkout",
        "description": "",
        "kpi": "Checkout conversion %",
        "baseline": "2.10",
        "target": "3.00",
        "current": "2.40",
        "due_date": "2026-06-30",
        "version": 2,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-02-01T00:00:00Z",
    },
    response_only=True,
)


class ObjectiveListView(ApiView):
    serializer_class = ObjectiveSerializer
    queryset = Objective.objects.none()

    # Objectives are workspace data for members (not guests), like feedback: VIEW_FEEDBACK.
    @extend_schema(
        summary="Business objectives",
        responses={200: ObjectiveSerializer(many=True), **READ_ERRORS},
        examples=[OBJECTIVE_EXAMPLE],
    )
    def get(self, request: Request, ws: str) -> Response:
        self.actor.require(Action.VIEW_FEEDBACK)
        rows = self.paginator.paginate(Objective.objects.filter(workspace=self.workspace), request, ("title", "id"))
        return self.paginator.get_paginated_response(ObjectiveSerializer(rows, many=True).data)

    @extend_schema(
        summary="Create an objective (workspace admins)",
        request=ObjectiveWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: ObjectiveSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "KPI", value={"title": "Faster checkout", "kpi": "Conversion %", "target": "3.00"}, request_only=True
            ),
            OBJECTIVE_EXAMPLE,
        ],
    )
    def post(self, request: Request, ws: str) -> Response:
        self.actor.require(Action.MANAGE_WORKSPACE)
        serializer = ObjectiveWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        objective = objective_save(workspace=self.workspace, **serializer.validated_data)
        return self.object_response(ObjectiveSerializer(objective).data, objective.version, status.HTTP_201_CREATED)


class ObjectiveDetailView(ApiView):
    serializer_class = ObjectiveSerializer
    queryset = Objective.objects.none()

    def objective(self, pk: Any) -> Objective:
        self.actor.require(Action.VIEW_FEEDBACK)
        return self.owned(Objective.objects, pk, "objective")

    @extend_schema(
        summary="An objective",
        parameters=[IF_NONE_MATCH],
        responses={200: ObjectiveSerializer, **NOT_MODIFIED, **READ_ERRORS},
        examples=[OBJECTIVE_EXAMPLE],
    )
    def get(self, request: Request, ws: str, pk: Any) -> Response:
        objective = self.objective(pk)
        return self.object_response(ObjectiveSerializer(objective).data, objective.version)

    @extend_schema(
        summary="Change an objective (workspace admins)",
        request=ObjectiveWriteSerializer,
        parameters=[IF_MATCH],
        responses={200: ObjectiveSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample("Progress", value={"current": "2.40"}, request_only=True), OBJECTIVE_EXAMPLE],
    )
    def patch(self, request: Request, ws: str, pk: Any) -> Response:
        objective = self.objective(pk)
        self.actor.require(Action.MANAGE_WORKSPACE)
        expected = self.expected_version()
        if expected is not None and expected != objective.version:
            from tracker.services.errors import StaleVersion

            raise StaleVersion(objective.version)
        serializer = ObjectiveWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        objective = objective_save(workspace=self.workspace, objective=objective, **serializer.validated_data)
        return self.object_response(ObjectiveSerializer(objective).data, objective.version)
