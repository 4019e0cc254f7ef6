"""Shared model pieces: public UUIDs, timestamps and the version counter for sync."""

import uuid

from django.db import models


class PublicModel(models.Model):
    """An object an API client may see: a stable UUID, timestamps and a version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True


class Segment(models.TextChoices):
    END_CUSTOMER = "end_customer", "End customers"
    EMPLOYEE = "employee", "Employees"
    MANAGEMENT = "management", "Management"
    PARTNER = "partner", "Partners"
