"""What the REST API itself remembers: idempotency keys of retried POSTs."""

from django.db import models


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an `Idempotency-Key`, replayed to its retries.

    `scope` names who sent it (an API token or a session user), so two clients can use the
    same key without seeing each other's responses. `fingerprint` is a hash of the method,
    path and body: the same key with another request is refused (422), not replayed.
    """

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
