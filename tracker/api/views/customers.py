"""Customers: list, create, read, edit, delete, upsert by external id."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.access import Action
from tracker.api.base import ApiView
from tracker.api.filters import CUSTOMER_ORDERINGS, CustomerFilter, FilterBackend
from tracker.api.serializers.feedback import CustomerSerializer, CustomerUpsertSerializer, CustomerWriteSerializer
from tracker.api.views.common import (
    IDEMPOTENCY_KEY,
    IF_MATCH,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    READ_ERRORS,
    UPDATED_SINCE,
    WRITE_ERRORS,
    ordering_param,
)
from tracker.models import ChangeKind, Customer
from tracker.services.customers import customer_create, customer_delete, customer_update
from tracker.services.errors import ValidationError
from tracker.services.sync import customer_upsert

CUSTOMER_EXAMPLE = OpenApiExample(
    "A customer",
    value={
        "id": "b7d1a3f0-2c4e-4f6a-8b9c-0d1e2f3a4b5c",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "kind": "person",
        "organization": None,
        "segment": "end_customer",
        "tier": "premium",
        "annual_value": "12000.00",
        "source": "zendesk",
        "external_id": "user-311",
        "version": 2,
        "created_at": "2026-01-02T08:00:00Z",
        "updated_at": "2026-01-03T08:00:00Z",
        "deleted": False,
    },
    response_only=True,
)


class CustomersMixin(ApiView):
    serializer_class = CustomerSerializer
    queryset = Customer.objects.none()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.actor.require(Action.VIEW_FEEDBACK)

    def clean_org(self, fields: dict[str, Any]) -> dict[str, Any]:
        fields = dict(fields)
        if fields.get("organization") is not None:
            org = Customer.objects.filter(workspace=self.workspace, pk=fields["organization"]).first()
            if org is None:
                raise ValidationError({"organization": "No customer with this id in the workspace."})
            fields["organization"] = org
        return fields

    def answer(self, customer: Customer, code: int = status.HTTP_200_OK) -> Response:
        return self.object_response(CustomerSerializer(customer).data, customer.version, code)


class CustomerListView(CustomersMixin):
    filter_backends = [FilterBackend]
    filterset_class = CustomerFilter

    def get_queryset(self) -> QuerySet[Customer]:
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        return Customer.objects.filter(workspace=self.workspace)

    @extend_schema(
        summary="List customers",
        parameters=[UPDATED_SINCE, ordering_param(CUSTOMER_ORDERINGS, "name")],
        responses={200: CustomerSerializer(many=True), **READ_ERRORS},
        examples=[CUSTOMER_EXAMPLE],
    )
    def get(self, request: Request, ws: str) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        rows = self.page_of(queryset, CUSTOMER_ORDERINGS, "name", feed=(self.workspace.pk, [ChangeKind.CUSTOMER]))
        return self.paginator.get_paginated_response(CustomerSerializer(rows, many=True).data)

    @extend_schema(
        summary="Create a customer",
        request=CustomerWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CustomerSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample("A person", value={"name": "Ada Lovelace", "email": "ada@example.com"}, request_only=True),
            CUSTOMER_EXAMPLE,
        ],
    )
    def post(self, request: Request, ws: str) -> Response:
        self.actor.require(Action.EDIT_CUSTOMERS)
        serializer = CustomerWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_create(workspace=self.workspace, **self.clean_org(serializer.validated_data))
        return self.answer(customer, status.HTTP_201_CREATED)


class CustomerDetailView(CustomersMixin):
    def customer(self, pk: Any) -> Customer:
        return self.owned(Customer.objects, pk, "customer")

    @extend_schema(
        summary="Read a customer",
        parameters=[IF_NONE_MATCH],
        responses={200: CustomerSerializer, **NOT_MODIFIED, **READ_ERRORS},
        examples=[CUSTOMER_EXAMPLE],
    )
    def get(self, request: Request, ws: str, pk: Any) -> Response:
        return self.answer(self.customer(pk))

    @extend_schema(
        summary="Change a customer",
        request=CustomerUpsertSerializer,
        parameters=[IF_MATCH],
        responses={200: CustomerSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample("Upgrade", value={"tier": "enterprise"}, request_only=True), CUSTOMER_EXAMPLE],
    )
    def patch(self, request: Request, ws: str, pk: Any) -> Response:
        self.actor.require(Action.EDIT_CUSTOMERS)
        expected = self.expected_version()
        customer = self.customer(pk)
        serializer = CustomerUpsertSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = self.clean_org(serializer.validated_data)
        customer = customer_update(customer=customer, expected_version=expected, **fields)
        return self.answer(customer)

    @extend_schema(
        summary="Delete a customer (their feedback stays, unattributed; sync clients get a tombstone)",
        parameters=[IF_MATCH],
        responses={204: None, **WRITE_ERRORS},
    )
    def delete(self, request: Request, ws: str, pk: Any) -> Response:
        self.actor.require(Action.EDIT_CUSTOMERS)
        expected = self.expected_version()
        customer = self.customer(pk)
        customer_delete(customer=customer, expected_version=expected)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerByExternalView(CustomersMixin):
    @extend_schema(
        summary="Read the customer with this external id",
        parameters=[IF_NONE_MATCH],
        responses={200: CustomerSerializer, **NOT_MODIFIED, **READ_ERRORS},
        examples=[CUSTOMER_EXAMPLE],
    )
    def get(self, request: Request, ws: str, source: str, external_id: str) -> Response:
        customer = Customer.objects.filter(workspace=self.workspace, source=source, external_id=external_id).first()
        if customer is None:
            raise Http404("No customer with this external id.")
        return self.answer(customer)

    @extend_schema(
        summary="Create (201) or update (200) the customer with this external id",
        request=CustomerUpsertSerializer,
        parameters=[IF_MATCH],
        responses={200: CustomerSerializer, 201: CustomerSerializer, **WRITE_ERRORS},
        examples=[OpenApiExample("From Zendesk", value={"name": "Ada Lovelace", "tier": "premium"}, request_only=True)],
    )
    def put(self, request: Request, ws: str, source: str, external_id: str) -> Response:
        self.actor.require(Action.EDIT_CUSTOMERS)
        expected = self.expected_version()
        serializer = CustomerUpsertSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = self.clean_org(serializer.validated_data)
        for name, value in (("source", source), ("external_id", external_id)):
            if name in fields and fields[name] != value:
                raise ValidationError({name: f"Must match the URL ({value!r}) or be left out."})
        if (
            "name" not in fields
            and not Customer.objects.filter(workspace=self.workspace, source=source, external_id=external_id).exists()
        ):
            raise ValidationError({"name": "A name is required to create a customer."})
        result = customer_upsert(
            workspace=self.workspace, source=source, external_id=external_id, fields=fields, expected_version=expected
        )
        code = status.HTTP_201_CREATED if result.outcome == "created" else status.HTTP_200_OK
        return self.answer(result.obj, code)
