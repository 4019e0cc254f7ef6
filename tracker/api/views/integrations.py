"""Webhooks, API tokens, and the workspace's feed of feedback links (with tombstones)."""

from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.access import Action
from tracker.api.base import ApiView
from tracker.api.serializers.feedback import LinkByExternalSerializer, LinkFeedSerializer, LinkSerializer
from tracker.api.serializers.workspace import (
    TokenCreatedSerializer,
    TokenSerializer,
    TokenWriteSerializer,
    WebhookCreatedSerializer,
    WebhookSerializer,
    WebhookWriteSerializer,
)
from tracker.api.views.common import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    READ_ERRORS,
    UPDATED_SINCE,
    WRITE_ERRORS,
)
from tracker.models import ApiToken, BacklogItem, Change, ChangeKind, Feedback, FeedbackLink, Webhook
from tracker.services.feedback import feedback_link
from tracker.services.integrations import webhook_create, webhook_delete, webhook_update
from tracker.services.tokens import token_create, token_revoke

WEBHOOK_EXAMPLE = OpenApiExample(
    "A webhook",
    value={
        "id": "2f3e4d5c-6b7a-4891-a2b3-c4d5e6f7a8b9",
        "url": "https://hooks.example.com/loopwise",
        "events": ["item.changed"],
        "is_active": True,
        "allow_private": False,
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    },
    response_only=True,
)


class WebhooksMixin(ApiView):
    atomic_writes = False  # the URL check resolves DNS; services.integrations opens the transaction after
    serializer_class = WebhookSerializer
    queryset = Webhook.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.actor.require(Action.MANAGE_WORKSPACE)


class WebhookListView(WebhooksMixin):
    @extend_schema(
        summary="Webhooks (workspace admins)",
        responses={200: WebhookSerializer(many=True), **READ_ERRORS},
        examples=[WEBHOOK_EXAMPLE],
    )
    def get(self, request: Request, ws: str) -> Response:
        rows = self.paginator.paginate(Webhook.objects.filter(workspace=self.workspace), request, ("created_at", "id"))
        return self.paginator.get_paginated_response(WebhookSerializer(rows, many=True).data)

    @extend_schema(
        summary="Subscribe a URL; the signing secret is in this answer only",
        description="Loopback, link-local and private targets are refused unless `allow_private` is set.",
        request=WebhookWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: WebhookCreatedSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "Subscribe",
                value={"url": "https://hooks.example.com/loopwise", "events": ["item.changed"]},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, ws: str) -> Response:
        serializer = WebhookWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook, secret = webhook_create(workspace=self.workspace, actor=request.user, **serializer.validated_data)
        data = WebhookCreatedSerializer(webhook, context={"secret": secret}).data
        return self.object_response(data, webhook.version, status.HTTP_201_CREATED)


class WebhookDetailView(WebhooksMixin):
    def webhook(self, pk: Any) -> Webhook:
        return self.owned(Webhook.objects, pk, "webhook")

    @extend_schema(
        summary="A webhook",
        parameters=[IF_NONE_MATCH],
        responses={200: WebhookSerializer, **NOT_MODIFIED, **READ_ERRORS},
        examples=[WEBHOOK_EXAMPLE],
    )
    def get(self, request: Request, ws: str, pk: Any) -> Response:
        webhook = self.webhook(pk)
        return self.object_response(WebhookSerializer(webhook).data, webhook.version)

    @extend_schema(
        summary="Change a webhook",
        request=WebhookWriteSerializer,
        parameters=[IF_MATCH],
        responses={200: WebhookSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample("Pause", value={"is_active": False}, request_only=True), WEBHOOK_EXAMPLE],
    )
    def patch(self, request: Request, ws: str, pk: Any) -> Response:
        expected = self.expected_version()
        webhook = self.webhook(pk)
        serializer = WebhookWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        webhook = webhook_update(webhook=webhook, expected_version=expected, **serializer.validated_data)
        return self.object_response(WebhookSerializer(webhook).data, webhook.version)

    @extend_schema(summary="Remove a webhook", parameters=[IF_MATCH], responses={204: None, **WRITE_ERRORS})
    def delete(self, request: Request, ws: str, pk: Any) -> Response:
        expected = self.expected_version()
        webhook_delete(webhook=self.webhook(pk), expected_version=expected)
        return Response(status=status.HTTP_204_NO_CONTENT)


TOKEN_CREATED_EXAMPLE = OpenApiExample(
    "A new token",
    value={
        "id": "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
        "name": "Jira sync",
        "user": "olivia",
        "scope": "write",
        "prefix": "lw_Xk3b9Qz1",
        "created_at": "2026-01-01T00:00:00Z",
        "last_used_at": None,
        "revoked_at": None,
        "version": 1,
        "token": "lw_Xk3b9Qz1…(43 characters, shown once)",
    },
    response_only=True,
)


class TokensMixin(ApiView):
    serializer_class = TokenSerializer
    queryset = ApiToken.objects.none()

    def tokens(self) -> Any:
        """Your own tokens; a workspace admin sees everyone's."""
        tokens = ApiToken.objects.filter(workspace=self.workspace).select_related("user")
        return tokens if self.actor.is_admin else tokens.filter(user=self.request.user)


class TokenListView(TokensMixin):
    @extend_schema(
        summary="API tokens (yours; admins see all)", responses={200: TokenSerializer(many=True), **READ_ERRORS}
    )
    def get(self, request: Request, ws: str) -> Response:
        rows = self.paginator.paginate(self.tokens(), request, ("-created_at", "-id"))
        return self.paginator.get_paginated_response(TokenSerializer(rows, many=True).data)

    @extend_schema(
        summary="Create a token for yourself; the token is in this answer only",
        request=TokenWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: TokenCreatedSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample("Sync", value={"name": "Jira sync", "scope": "write"}, request_only=True),
            TOKEN_CREATED_EXAMPLE,
        ],
    )
    def post(self, request: Request, ws: str) -> Response:
        if self.actor.read_only:
            raise PermissionDenied("A read-only token cannot create tokens.")
        serializer = TokenWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = token_create(workspace=self.workspace, user=request.user, **serializer.validated_data)
        token = ApiToken.objects.select_related("user").get(pk=issued.token.pk)
        data = TokenCreatedSerializer(token, context={"secret": issued.secret}).data
        return self.object_response(data, token.version, status.HTTP_201_CREATED)


class TokenDetailView(TokensMixin):
    @extend_schema(summary="A token (never its secret)", responses={200: TokenSerializer, **READ_ERRORS})
    def get(self, request: Request, ws: str, pk: Any) -> Response:
        token = self.tokens().filter(pk=pk).first()
        if token is None:
            raise Http404("No such token.")
        return self.object_response(TokenSerializer(token).data, token.version)

    @extend_schema(
        summary="Revoke a token; it is refused from the next request on", responses={204: None, **WRITE_ERRORS}
    )
    def delete(self, request: Request, ws: str, pk: Any) -> Response:
        if self.actor.read_only:
            raise PermissionDenied("A read-only token cannot revoke tokens.")
        token = self.tokens().filter(pk=pk).first()
        if token is None:
            raise Http404("No such token.")
        token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LinkFeedView(ApiView):
    """Every feedback link of the workspace, live and removed, in (updated_at, id) order."""

    serializer_class = LinkFeedSerializer
    queryset = FeedbackLink.objects.none()

    @extend_schema(
        summary="All feedback links, for delta sync (removed links as tombstones)",
        parameters=[
            UPDATED_SINCE,
            OpenApiParameter("feedback", OpenApiTypes.UUID, description="Only this feedback's links"),
            OpenApiParameter("cursor", str, description="Opaque position from a previous page's `next`."),
            OpenApiParameter("page_size", int, description="Rows per page, 1–500 (default 50)."),
        ],
        responses={200: LinkFeedSerializer(many=True), **READ_ERRORS},
        examples=[
            OpenApiExample(
                "A removed link",
                value={
                    "next": None,
                    "results": [
                        {
                            "id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
                            "feedback": "c2a9e0d4-1f3b-4a5c-9d7e-2b4f6a8c0e1d",
                            "item": "SHOP-42",
                            "item_id": "6f1c2d3e-4b5a-4c6d-8e7f-901234567890",
                            "quote": "",
                            "version": None,
                            "updated_at": "2026-01-06T10:00:00Z",
                            "deleted": True,
                        }
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, ws: str) -> Response:
        self.actor.require(Action.VIEW_FEEDBACK)
        links = FeedbackLink.objects.filter(workspace=self.workspace).select_related("item__project")
        changes = Change.objects.filter(scope=self.workspace.pk, kind=ChangeKind.LINK)
        feedback = request.query_params.get("feedback")
        if feedback:
            try:
                feedback = str(UUID(feedback))
            except ValueError as exc:
                raise ValidationError({"feedback": ["A feedback id."]}) from exc
            links = links.filter(feedback_id=feedback)
            changes = changes.filter(data__feedback=feedback)
        cursor = self.sync_cursor()
        if cursor is None:
            rows = self.paginator.paginate(links, request, ("updated_at", "id"))
            return self.paginator.get_paginated_response([self._live(link) for link in rows])
        rows = self.sync_page_of(cursor, changes, links)
        return self.paginator.get_paginated_response([self._live(link) for link in rows])

    @staticmethod
    def _live(link: FeedbackLink) -> dict[str, Any]:
        return {
            "id": str(link.pk),
            "feedback": str(link.feedback_id),
            "item": f"{link.item.project.key}-{link.item.number}",
            "item_id": str(link.item_id),
            "quote": link.quote,
            "version": link.version,
            "updated_at": link.updated_at.isoformat().replace("+00:00", "Z"),
            "deleted": False,
        }


class LinkByExternalView(ApiView):
    """Upsert one feedback link by the external ids of both its ends (for two-way sync)."""

    serializer_class = LinkSerializer
    queryset = FeedbackLink.objects.none()

    @extend_schema(
        summary="Create or update the link between feedback and an item, both named by source and external id",
        request=LinkByExternalSerializer,
        responses={200: LinkSerializer, 201: LinkSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "Link a support ticket to a Jira issue",
                value={
                    "feedback_source": "zendesk", "feedback_external_id": "ZD-1042", "project": "SHOP",
                    "item_source": "jira", "item_external_id": "SHOP-7", "quote": "five clicks to pay",
                },
                request_only=True,
            )
        ],
    )  # fmt: skip
    def put(self, request: Request, ws: str) -> Response:
        self.actor.require(Action.TRIAGE_FEEDBACK)
        serializer = LinkByExternalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        feedback = Feedback.objects.filter(
            workspace=self.workspace, source=data["feedback_source"], external_id=data["feedback_external_id"]
        ).first()
        if feedback is None:
            raise ValidationError({"feedback_external_id": ["No feedback with this source and external id."]})
        project = self.actor.project(data["project"])
        item = (
            BacklogItem.objects.select_related("project")
            .filter(project=project, source=data["item_source"], external_id=data["item_external_id"])
            .filter(deleted_at__isnull=True)
            .first()
        )
        if item is None:
            raise ValidationError(
                {"item_external_id": ["No live item with this source and external id in " + project.key + "."]}
            )
        self.actor.require(Action.EDIT_ITEMS, project)
        existed = FeedbackLink.objects.filter(feedback=feedback, item=item).exists()
        link = feedback_link(feedback=feedback, item=item, actor=request.user, quote=data.get("quote", ""))
        link = FeedbackLink.objects.select_related("item__project", "linked_by").get(pk=link.pk)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return self.object_response(LinkSerializer(link).data, link.version, code)
