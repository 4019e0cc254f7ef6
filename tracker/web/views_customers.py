"""The customer page: who they are, everything they said and what became of it."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from tracker.access import Action, Actor
from tracker.models import Customer, CustomerNotification
from tracker.services.metrics import score_summary
from tracker.web.common import base_context, member_view
from tracker.web.queries import customer_feedback


@member_view
def customer_detail(request: HttpRequest, actor: Actor, pk: str) -> HttpResponse:
    # Queries: customer with organization (1), feedback (1) with links, items, projects and
    # sprints (1), scores (1), notifications (1).
    actor.require(Action.VIEW_FEEDBACK)
    customer = get_object_or_404(Customer.objects.select_related("organization"), workspace=actor.workspace, pk=pk)
    feedback = customer_feedback(customer)
    notifications = list(
        CustomerNotification.objects.filter(customer=customer).select_related("sprint__project").order_by("-created_at")
    )
    visible = {p.pk for p in actor.projects()}
    for entry in feedback:
        entry.visible_links = [link for link in entry.links.all() if link.item.project_id in visible]
    context = base_context(
        actor,
        customer=customer,
        feedback=feedback,
        notifications=notifications,
        scores=score_summary(customer.feedback.all()),
    )
    return render(request, "tracker/customer.html", context)
