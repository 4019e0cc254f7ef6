"""Comments on an item: read them, add one."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.access import Action
from tracker.api.serializers.items import CommentSerializer, CommentWriteSerializer
from tracker.api.views.common import IDEMPOTENCY_KEY, READ_ERRORS, WRITE_ERRORS
from tracker.api.views.items import ProjectItemsMixin
from tracker.models import Comment
from tracker.services.comments import comment_create

COMMENT_EXAMPLE = OpenApiExample(
    "A comment",
    value={
        "id": "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d",
        "author": "dana",
        "body": "The payment form is the slow part.",
        "version": 1,
        "created_at": "2026-01-06T11:00:00Z",
        "updated_at": "2026-01-06T11:00:00Z",
    },
    response_only=True,
)


class ItemCommentsView(ProjectItemsMixin):
    serializer_class = CommentSerializer
    queryset = Comment.objects.none()

    def comments(self, number: int) -> QuerySet[Comment]:
        return Comment.objects.filter(item=self.item(number)).select_related("author")

    @extend_schema(
        summary="Comments on an item, oldest first",
        responses={200: CommentSerializer(many=True), **READ_ERRORS},
        examples=[COMMENT_EXAMPLE],
    )
    def get(self, request: Request, ws: str, key: str, number: int) -> Response:
        rows = self.paginator.paginate(self.comments(number), request, ("created_at", "id"))
        return self.paginator.get_paginated_response(CommentSerializer(rows, many=True).data)

    @extend_schema(
        summary="Comment on an item",
        request=CommentWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CommentSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample("Comment", value={"body": "The payment form is the slow part."}, request_only=True),
            COMMENT_EXAMPLE,
        ],
    )
    def post(self, request: Request, ws: str, key: str, number: int) -> Response:
        self.actor.require(Action.COMMENT, self.project)
        serializer = CommentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = comment_create(item=self.item(number), actor=request.user, body=serializer.validated_data["body"])
        return self.object_response(CommentSerializer(comment).data, comment.version, status.HTTP_201_CREATED)
