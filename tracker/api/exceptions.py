"""One JSON shape for every API error.

    {"code": "validation_error", "message": "…", "fields": {"title": ["A title is required."]}}

`fields` names each invalid field (dotted for nested input: `items.3.title`); a rejected
batch adds `entries` ([{"index": 3, "fields": {…}}]); a stale If-Match adds
`current_version`. Codes: validation_error, parse_error, not_authenticated,
authentication_failed, permission_denied, not_found, method_not_allowed, not_acceptable,
conflict, precondition_failed, payload_too_large, unsupported_media_type,
idempotency_key_reused, throttled, resync (410: the sync cursor lies beyond the change
feed's retention; pull again without a cursor), unavailable (503: the database
went away mid-request; retry).
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tracker.services.errors import StaleVersion
from tracker.services.sync import BatchInvalid


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since the version you sent in If-Match."
    default_code = "precondition_failed"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A concurrent request changed the same object; retry."
    default_code = "conflict"


class Resync(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = (
        "This cursor is older than the change feed keeps changes: resync by pulling again without a cursor "
        "(or with updated_since)."
    )
    default_code = "resync"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with a different request."
    default_code = "idempotency_key_reused"


STATUS_CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "resync",
    412: "precondition_failed",
    413: "payload_too_large",
    503: "unavailable",
    415: "unsupported_media_type",
    422: "idempotency_key_reused",
    429: "throttled",
}


def flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"dotted.field": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else "non_field_errors"
            for sub, messages in flatten(value, f"{prefix}{name}.").items():
                out.setdefault(sub, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            out[prefix.rstrip(".") or "non_field_errors"] = [str(v) for v in detail]
        else:
            for index, value in enumerate(detail):
                if value:
                    out.update(flatten(value, f"{prefix}{index}."))
    else:
        out[prefix.rstrip(".") or "non_field_errors"] = [str(detail)]
    return out


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or {}, **extra}


def _batch_response(exc: BatchInvalid) -> Response:
    entries = [{"index": index, "fields": fields} for index, fields in sorted(exc.errors.items())]
    fields = {f"items.{e['index']}.{name}": msgs for e in entries for name, msgs in e["fields"].items()}
    body = error_body(
        "validation_error",
        f"{len(entries)} entries are invalid; nothing was written.",
        fields,
        entries=entries,
    )
    return Response(body, status=400)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away mid-request (failover, restart, a killed backend). The
        # request's transaction died with the connection, so nothing of it was committed;
        # Django drops the broken connection at the end of the request and the next one
        # reconnects. Tell the client to retry instead of answering a bare 500.
        body = error_body(
            "unavailable",
            "The database did not answer; retry (a POST with the same Idempotency-Key never applies twice).",
        )
        return Response(body, status=503, headers={"Retry-After": "1"})
    if isinstance(exc, BatchInvalid):
        return _batch_response(exc)
    if isinstance(exc, StaleVersion):
        body = error_body(
            "precondition_failed",
            str(exc),
            current_version=exc.current_version,
        )
        headers = {"ETag": f'"{exc.current_version}"'} if exc.current_version else {}
        return Response(body, status=412, headers=headers)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, IntegrityError):
        # A unique constraint caught a race the services' locks do not cover (e.g. the web
        # form and the API creating the same external id at once): retrying is safe.
        exc = Conflict()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = STATUS_CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ParseError):
        code = "parse_error"
    elif isinstance(exc, exceptions.AuthenticationFailed):
        code = "authentication_failed"
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten(exc.detail)
        message = "Some fields are invalid: " + ", ".join(sorted(fields)) + "."
        response.data = error_body(code, message, fields)
    else:
        detail = getattr(exc, "detail", None)
        response.data = error_body(code, str(detail) if detail is not None else str(exc))
    return response
