"""factory_boy factories for every model a test needs."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from tracker import models as m
from tracker.services.backlog import RANK_GAP


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Workspace

    slug = factory.Sequence(lambda n: f"ws{n}")
    name = factory.LazyAttribute(lambda w: w.slug.title())


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = m.WorkspaceRole.MEMBER


def _key(n: int) -> str:
    letters = ""
    n += 26
    while n:
        n, r = divmod(n, 26)
        letters = chr(65 + r) + letters
    return ("P" + letters)[:10]


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Project

    workspace = factory.SubFactory(WorkspaceFactory)
    key = factory.Sequence(_key)
    name = factory.LazyAttribute(lambda p: f"Project {p.key}")
    mix_end_customer = 70
    mix_employee = 10
    mix_management = 10
    mix_partner = 10


class ProjectMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ProjectMembership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = m.ProjectRole.DEVELOPER


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Customer

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    segment = m.Segment.END_CUSTOMER
    tier = m.Tier.STANDARD
    annual_value = Decimal("1000")


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Feedback

    workspace = factory.SubFactory(WorkspaceFactory)
    customer = factory.SubFactory(CustomerFactory, workspace=factory.SelfAttribute("..workspace"))
    channel = m.Channel.SURVEY
    body = factory.Sequence(lambda n: f"Feedback number {n}: checkout is slow")
    received_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))


class ItemFactory(factory.django.DjangoModelFactory):
    """Items numbered and ranked like the service does; use item_create for the real rules."""

    class Meta:
        model = m.BacklogItem

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: n + 1)
    rank = factory.LazyAttribute(lambda i: i.number * RANK_GAP)
    title = factory.Sequence(lambda n: f"Item {n}")
    kind = m.ItemKind.STORY
    estimate = Decimal("3")


class SprintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Sprint

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda s: f"Sprint {s.number}")
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=3))
    end_date = factory.LazyAttribute(lambda s: s.start_date + timedelta(days=13))
    capacity = 20


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Objective

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Objective {n}")
    kpi = "Conversion %"
    target = Decimal("3")
