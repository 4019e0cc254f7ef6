"""Schema pieces shared by the views: parameters, error answers, examples."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from tracker.api.serializers.common import BatchErrorSerializer, ErrorSerializer, StaleErrorSerializer

UPDATED_SINCE = OpenApiParameter(
    "updated_since",
    OpenApiTypes.DATETIME,
    description=(
        "Everything changed at or after this instant, tombstones included (`deleted: true`), ordered by "
        "(updated_at, id). Rows younger than a few seconds are held back until every transaction that "
        "could still commit an older change has finished, so a pull never misses one; pull again from the "
        "`updated_at` of the last row you received."
    ),
)
IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, description='The ETag you last saw, e.g. "3"; 412 when stale.'
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match", str, OpenApiParameter.HEADER, description="The ETag you hold; 304 when unchanged."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Retrying with the same key and body within 24 h replays the first answer; another body is 422.",
)


def ordering_param(choices: dict[str, tuple[str, ...]], default: str) -> OpenApiParameter:
    return OpenApiParameter("ordering", str, enum=sorted(choices), description=f"Default {default}.")


ERROR_EXAMPLE = OpenApiExample(
    "Validation error",
    value={
        "code": "validation_error",
        "message": "Some fields are invalid: title.",
        "fields": {"title": ["A title is required."]},
    },
    response_only=True,
    status_codes=["400"],
)

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; `fields` names each bad field."),
    401: OpenApiResponse(ErrorSerializer, description="No or invalid credentials."),
    403: OpenApiResponse(ErrorSerializer, description="Your role or token scope does not allow this."),
    404: OpenApiResponse(ErrorSerializer, description="No such object in a workspace you can see."),
    413: OpenApiResponse(ErrorSerializer, description="Body too large."),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests; see Retry-After."),
}
READ_ERRORS = {k: v for k, v in ERRORS.items() if k in (400, 401, 404, 429)}
WRITE_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(ErrorSerializer, description="A concurrent write collided; retry."),
    412: OpenApiResponse(StaleErrorSerializer, description="If-Match named an older version."),
    422: OpenApiResponse(ErrorSerializer, description="Idempotency-Key reused with another body."),
}
BATCH_ERRORS = {**WRITE_ERRORS, 400: OpenApiResponse(BatchErrorSerializer, description="Bad entries by index.")}
NOT_MODIFIED = {304: OpenApiResponse(description="Not modified (If-None-Match).")}
