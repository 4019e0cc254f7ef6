"""Settings pages: a project's segment mix and customer digests, the workspace's webhooks
with their delivery logs, and your own API tokens."""

import json

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tracker.access import Action, Actor
from tracker.models import ApiToken, Project, Webhook, WebhookDelivery
from tracker.services.errors import StaleVersion
from tracker.services.integrations import WEBHOOK_EVENTS, webhook_create, webhook_delete
from tracker.services.notifications import digest_sample
from tracker.services.projects import project_update
from tracker.services.tokens import token_create, token_revoke
from tracker.services.webhooks import webhook_redeliver
from tracker.web import forms as f
from tracker.web.common import apply_errors, base_context, member_view, paginate, project_view, render_page

PROJECT_SETTINGS = (
    "mix_end_customer", "mix_employee", "mix_management", "mix_partner",
    "notify_customers", "digest_subject", "digest_template",
)  # fmt: skip

# --- Project settings -------------------------------------------------------------------


@project_view
def project_settings(request: HttpRequest, actor: Actor, project: Project) -> HttpResponse:
    # Queries: none beyond the project and the actor. A save adds the service's lock and write.
    actor.require(Action.MANAGE_PROJECT, project)
    project.workspace = actor.workspace
    message, status, preview = "", 200, None
    form: f.ProjectSettingsForm
    if request.method == "POST":
        form = f.ProjectSettingsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            version = data.pop("version")
            try:
                preview = digest_sample(project=project, subject=data["digest_subject"], body=data["digest_template"])
                if request.POST.get("action") != "preview":
                    project = project_update(project=project, expected_version=version, **data)
                    project.workspace = actor.workspace
                    message = "Settings saved."
                    form = _settings_form(project)
            except StaleVersion as exc:
                form.add_error(
                    None,
                    f"Someone else changed these settings meanwhile (now version {exc.current_version}). "
                    "Nothing was saved: reload to see their changes.",
                )
            except ValidationError as exc:
                apply_errors(form, exc)
                preview = None
        status = 422 if form.errors else 200
    else:
        form = _settings_form(project)
    if preview is None and not form.errors:
        preview = digest_sample(project=project, subject=project.digest_subject, body=project.digest_template)
    context = base_context(actor, project, form=form, message=message, preview=preview)
    return render_page(
        request,
        "tracker/project_settings.html",
        context,
        fragment="tracker/partials/digest_preview.html",
        status=status,
    )


def _settings_form(project: Project) -> f.ProjectSettingsForm:
    initial = {name: getattr(project, name) for name in PROJECT_SETTINGS}
    return f.ProjectSettingsForm(initial={**initial, "version": project.version})


# --- Webhooks ---------------------------------------------------------------------------


def _webhook_form(data: dict | None = None) -> f.WebhookForm:
    form = f.WebhookForm(data)
    form.fields["events"].choices = [(e, e) for e in WEBHOOK_EVENTS]
    return form


@member_view
def webhooks(request: HttpRequest, actor: Actor) -> HttpResponse:
    # Queries: the workspace's webhooks (1). A create adds a DNS check of the URL (outside
    # any transaction) and one insert.
    actor.require(Action.MANAGE_WORKSPACE)
    created, secret, status = None, "", 200
    if request.method == "POST":
        form = _webhook_form(request.POST)
        if form.is_valid():
            try:
                created, secret = webhook_create(workspace=actor.workspace, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                form = _webhook_form()
        status = 200 if created else 422
    else:
        form = _webhook_form()
    hooks = list(Webhook.objects.filter(workspace=actor.workspace).order_by("created_at"))
    context = base_context(actor, form=form, webhooks=hooks, created=created, secret=secret)
    return render(request, "tracker/webhooks.html", context, status=status)


def _webhook(actor: Actor, pk: str) -> Webhook:
    return get_object_or_404(Webhook, workspace=actor.workspace, pk=pk)


@member_view
def webhook_detail(request: HttpRequest, actor: Actor, pk: str) -> HttpResponse:
    # Queries: the webhook (1), count and page of its deliveries (2).
    actor.require(Action.MANAGE_WORKSPACE)
    webhook = _webhook(actor, pk)
    page = paginate(WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-id"), request)
    deliveries = list(page.object_list)
    for delivery in deliveries:
        delivery.payload_json = json.dumps(delivery.payload, indent=2, sort_keys=True)  # escaped by the template
    context = base_context(actor, webhook=webhook, page=page, deliveries=deliveries)
    return render(request, "tracker/webhook.html", context)


@require_POST
@member_view
def webhook_remove(request: HttpRequest, actor: Actor, pk: str) -> HttpResponse:
    actor.require(Action.MANAGE_WORKSPACE)
    webhook_delete(webhook=_webhook(actor, pk))
    return redirect("webhooks", ws=actor.workspace.slug)


@require_POST
@member_view
def delivery_redeliver(request: HttpRequest, actor: Actor, pk: str, delivery: str) -> HttpResponse:
    actor.require(Action.MANAGE_WORKSPACE)
    webhook = _webhook(actor, pk)
    webhook_redeliver(delivery=get_object_or_404(WebhookDelivery, webhook=webhook, pk=delivery))
    return redirect("webhook", ws=actor.workspace.slug, pk=webhook.pk)


# --- API tokens -------------------------------------------------------------------------


@member_view
def tokens(request: HttpRequest, actor: Actor) -> HttpResponse:
    # Queries: your tokens in this workspace (1). Every member manages only their own.
    issued, status = None, 200
    if request.method == "POST":
        form = f.TokenForm(request.POST)
        if form.is_valid():
            try:
                issued = token_create(workspace=actor.workspace, user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                form = f.TokenForm()
        status = 200 if issued else 422
    else:
        form = f.TokenForm()
    mine = list(ApiToken.objects.filter(workspace=actor.workspace, user=request.user).order_by("-created_at"))
    context = base_context(actor, form=form, tokens=mine, issued=issued)
    return render(request, "tracker/tokens.html", context, status=status)


@require_POST
@member_view
def token_remove(request: HttpRequest, actor: Actor, pk: str) -> HttpResponse:
    token_revoke(token=get_object_or_404(ApiToken, workspace=actor.workspace, user=request.user, pk=pk))
    return redirect("tokens", ws=actor.workspace.slug)
