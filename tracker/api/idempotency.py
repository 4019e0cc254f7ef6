"""`Idempotency-Key` on POST: a retried request replays the first answer and writes nothing.

The key is reserved and the work done in one transaction: a crash leaves neither, and a
concurrent retry with the same key waits on the unique index until the first commits, then
replays its answer. Only successful answers are kept; a failed request may be retried with
the same key. Keys live 24 hours.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from tracker.api.authentication import token_of
from tracker.api.exceptions import IdempotencyKeyReused
from tracker.models import IdempotencyKey

HEADER = "Idempotency-Key"
LIFETIME = timedelta(hours=24)
REPLAYED_HEADERS = ("ETag", "Location")


def _scope(request: Request) -> str:
    token = token_of(request)
    return f"token:{token.pk}" if token is not None else f"user:{request.user.pk}"


def _file_digest(upload: UploadedFile) -> str:
    """A streamed hash of an uploaded file, left rewound for the view that reads it next."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"{upload.name}:{upload.size}:{digest.hexdigest()}"


def _fingerprint(request: Request) -> str:
    data = request.data
    if request.FILES:  # multipart: hash files in chunks instead of encoding (and consuming) them
        data = {
            key: [v if not isinstance(v, UploadedFile) else _file_digest(v) for v in data.getlist(key)] for key in data
        }
    body = json.dumps(data, sort_keys=True, cls=JSONEncoder)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyKey) -> Response:
    response = Response(record.response_body, status=record.status_code, headers=record.response_headers)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(request: Request, key: str, call: Callable[[], Response]) -> Response:
    """Run `call` once per (client, key); the answer to a retry is the stored first answer."""
    if len(key) > 255:
        from rest_framework.exceptions import ValidationError

        raise ValidationError({HEADER: ["Keep the Idempotency-Key under 256 characters."]})
    scope = _scope(request)
    fingerprint = _fingerprint(request)
    now = timezone.now()
    with transaction.atomic():
        # Expired keys of this client go as it sends a new one: the table stays bounded per client.
        IdempotencyKey.objects.filter(scope=scope, created_at__lt=now - LIFETIME).delete()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(scope=scope, key=key, fingerprint=fingerprint, created_at=now)
        except IntegrityError:
            record = IdempotencyKey.objects.get(scope=scope, key=key)
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused() from None
            return _replay(record)
        response = call()
        if 200 <= response.status_code < 300:
            record.status_code = response.status_code
            record.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            record.response_headers = {h: response[h] for h in REPLAYED_HEADERS if response.has_header(h)}
            record.save(update_fields=["status_code", "response_body", "response_headers"])
        else:
            # Nothing of a failed request is kept: the client may fix it and retry with the key.
            transaction.set_rollback(True)
        return response


def idempotency_key(request: Request) -> Any:
    return request.headers.get(HEADER)
