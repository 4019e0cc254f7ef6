"""The base of every API view: workspace and actor, body limits, ETags, idempotent POSTs."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.access import Actor, actor_for
from tracker.api.authentication import token_of
from tracker.api.exceptions import PayloadTooLarge, Resync
from tracker.api.filters import in_utc, ordering_of
from tracker.api.idempotency import idempotency_key, idempotent
from tracker.api.pagination import KeysetPagination, page_size_of
from tracker.feed.read import FeedExpired
from tracker.feed.sync import BadCursor, SyncCursor, sync_page, sync_start
from tracker.models import Change, TokenScope, Workspace


def max_body_bytes() -> int:
    return int(getattr(settings, "API_MAX_BODY_BYTES", 5 * 1024 * 1024))


def parse_version(header: str | None) -> int | None:
    """The version in an If-Match / If-None-Match header (`"7"`, `W/"7"` or `7`); None for `*`."""
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return None
    value = value.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise ValidationError({"If-Match": ['Send the ETag you got, e.g. If-Match: "3".']})
    return int(value)


def etag(version: int) -> str:
    return f'"{version}"'


class ApiView(generics.GenericAPIView):
    """Resolves `{ws}` to the workspace and the caller's Actor before any handler runs.

    A token only works in its own workspace: any other workspace answers 404, as for a
    non-member. A read-scoped token makes the actor read-only (access.py then refuses writes).
    """

    pagination_class = KeysetPagination
    # OPTIONS would introspect serializers for a browsable form; the schema documents the API.
    metadata_class = None
    # Writes run in one transaction, so a request that calls more than one service (edit,
    # then triage) is never half-written. Views that must reach the network first (the
    # webhook URL check resolves DNS) turn it off and keep their own transactions short.
    atomic_writes = True
    actor: Actor
    workspace: Workspace

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > self.max_body():
            raise PayloadTooLarge(f"The body is larger than {self.max_body()} bytes.")
        super().initial(request, *args, **kwargs)
        slug = kwargs.get("ws")
        if slug is not None:
            token = token_of(request)
            if token is not None:
                # The token's own query read its workspace and its user's role there.
                if token.workspace.slug != slug or token.member_role is None:
                    raise Http404("No such workspace.")
                workspace, role = token.workspace, token.member_role
            else:
                workspace, role = Workspace.objects.filter(slug=slug).first(), None
                if workspace is None:
                    raise Http404("No such workspace.")
            self.workspace = workspace
            read_only = token is not None and token.scope == TokenScope.READ
            self.actor = actor_for(request.user, workspace, read_only=read_only, role=role)

    def max_body(self) -> int:
        """The largest body this view accepts (file uploads raise it)."""
        return max_body_bytes()

    def check_permissions(self, request: Request) -> None:
        # Throttle before the permission check, so refused anonymous requests count against
        # their IP too (DRF checks permissions first).
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request: Request) -> None:
        if getattr(self, "_throttled", False):
            return
        self._throttled = True
        super().check_throttles(request)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # DRF's dispatch, with POSTs that carry an Idempotency-Key run through `idempotent`
        # after authentication (the key is scoped to the authenticated client).
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, *args, **kwargs)
            method = request.method.lower()
            handler = getattr(self, method, self.http_method_not_allowed)
            if method not in self.http_method_names:
                handler = self.http_method_not_allowed
            key = idempotency_key(request)
            if method == "post" and key:

                def call() -> Response:
                    try:
                        return handler(request, *args, **kwargs)
                    except Exception as exc:  # noqa: BLE001 - turned into the error response
                        return self.handle_exception(exc)

                response = idempotent(request, key, call)
            elif method in ("post", "put", "patch", "delete") and self.atomic_writes:
                with transaction.atomic():
                    response = handler(request, *args, **kwargs)
            else:
                response = handler(request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - DRF's own pattern
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    # --- Concurrency ----------------------------------------------------------------------

    def expected_version(self) -> int | None:
        return parse_version(self.request.headers.get("If-Match"))

    def object_response(self, data: Any, version: int, code: int = status.HTTP_200_OK) -> Response:
        """A single object with its ETag; 304 when If-None-Match already names this version."""
        if self.request.method == "GET":
            wanted = self.request.headers.get("If-None-Match")
            if wanted and etag(version) in [v.strip().removeprefix("W/") for v in wanted.split(",")]:
                return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag(version)})
        return Response(data, status=code, headers={"ETag": etag(version)})

    # --- Delta sync -----------------------------------------------------------------------

    def owned(self, queryset: QuerySet[Any], pk: Any, what: str) -> Any:
        """This workspace's object with this id; 404 otherwise (another workspace's included)."""
        found = queryset.filter(workspace=self.workspace, pk=pk).first()
        if found is None:
            raise Http404(f"No such {what}.")
        return found

    def page_of(
        self,
        queryset: QuerySet[Any],
        orderings: dict[str, tuple[str, ...]],
        default: str,
        *,
        live: Q | None = None,
        feed: tuple[Any, Sequence[str]] | None = None,
        key: str = "pk",
    ) -> list[Any]:
        """One page of a list. With `?updated_since=` or a sync `?cursor=` (and a `feed`,
        the scope and kinds of this list's changes): the next changes, each object once in
        its current state, tombstones included (tracker.feed.sync). Without: the live rows
        (`live`) in the order `?ordering=` names."""
        cursor = self.sync_cursor() if feed is not None else None
        if cursor is not None and feed is not None:
            scope, kinds = feed
            changes = Change.objects.filter(scope=scope, kind__in=list(kinds))
            return self.sync_page_of(cursor, changes, queryset, key=key)
        if live is not None:
            queryset = queryset.filter(live)
        ordering = ordering_of(self.request, orderings, default)
        return self.paginator.paginate(queryset, self.request, ordering)

    def sync_page_of(
        self, cursor: SyncCursor, changes: QuerySet[Change], objects: QuerySet[Any], *, key: str = "pk"
    ) -> list[Any]:
        """The rows of one sync page from `cursor` over `changes`; the paginator answers
        them with their tombstones and the next cursor. A pruned cursor is a 410."""
        try:
            page = sync_page(
                workspace=self.workspace,
                cursor=cursor,
                changes=changes,
                objects=objects,
                size=page_size_of(self.request),
                key=key,
            )
        except FeedExpired as exc:
            raise Resync() from exc
        self.paginator.sync, self.paginator.request = page, self.request
        return page.rows

    def sync_cursor(self) -> SyncCursor | None:
        """The position a sync pull starts from: its `?cursor=`, or `?updated_since=`
        translated into the change feed; None for a plain list."""
        raw = self.request.query_params.get("cursor")
        if raw:
            try:
                cursor = SyncCursor.decode(raw)
            except BadCursor as exc:
                raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
            if cursor is not None:
                return cursor
        since = self.updated_since()
        if since is None:
            return None
        if raw:
            raise ValidationError({"cursor": ["Continue a sync pull with the `cursor` it gave (not a list page's)."]})
        return sync_start(self.workspace, since)

    def updated_since(self) -> datetime | None:
        raw = self.request.query_params.get("updated_since")
        if raw is None:
            return None
        value = parse_datetime(raw.replace(" ", "+"))
        if value is None:
            raise ValidationError({"updated_since": ["An ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z."]})
        if timezone.is_naive(value):
            raise ValidationError({"updated_since": ["Give a time zone (Z or +hh:mm)."]})
        # In UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows.
        return in_utc(value, "updated_since")
