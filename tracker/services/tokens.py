"""API tokens: issued once in clear, stored as a SHA-256 hash, revocable.

A token reads `lw_` followed by 43 URL-safe characters (256 bits of randomness). Only its
hash is stored; the first characters are kept as `prefix` so a user can tell tokens apart.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from tracker.models import ApiToken, Membership, TokenScope, Workspace
from tracker.services.errors import ValidationError

TOKEN_PREFIX = "lw_"  # noqa: S105 - a marker, not a secret
PREFIX_LENGTH = 11
# Recording last use costs a write; once a minute is precise enough and keeps reads cheap.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, workspace: Workspace, user: AbstractBaseUser, name: str = "", scope: str = TokenScope.WRITE
) -> IssuedToken:
    """Issue a token for a member of `workspace`; the clear secret is returned only here."""
    errors = {}
    name = (name or "").strip()
    if len(name) > 100:
        errors["name"] = "Keep the name under 100 characters."
    if scope not in TokenScope.values:
        errors["scope"] = f"Scope must be one of {', '.join(TokenScope.values)}."
    if not Membership.objects.filter(workspace=workspace, user=user).exists():
        errors["user"] = f"{user} is not a member of {workspace.slug}."
    if errors:
        raise ValidationError(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        workspace=workspace,
        user=user,
        name=name or f"Token {timezone.now():%Y-%m-%d %H:%M}",
        scope=scope,
        prefix=secret[:PREFIX_LENGTH],
        key_hash=token_hash(secret),
    )
    return IssuedToken(token=token, secret=secret)


def token_authenticate(secret: str) -> ApiToken | None:
    """The live token with this secret, or None. One query (by the unique hash), which also
    reads its user, its workspace and the user's role there (`member_role`, None once the
    user has left the workspace)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    digest = token_hash(secret)
    role = Membership.objects.filter(workspace=OuterRef("workspace"), user=OuterRef("user")).values("role")[:1]
    token = (
        ApiToken.objects.select_related("user", "workspace")
        .annotate(member_role=Subquery(role))
        .filter(key_hash=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    # The index lookup already matched; comparing again in constant time costs nothing and
    # keeps the check honest should the lookup ever become a prefix match.
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None
    return token


def token_touch(token: ApiToken) -> None:
    """Record use at most once per LAST_USED_RESOLUTION; a conditional UPDATE, no version bump."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    token.last_used_at = now


@transaction.atomic
def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke now; the next request with it is refused. Revoking twice keeps the first time."""
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.version += 1
        locked.save(update_fields=["revoked_at", "version", "updated_at"])
    return locked
