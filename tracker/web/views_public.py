"""The public feedback form of a workspace: no account, a honeypot and a per-IP rate limit."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_protect

from tracker import ratelimit
from tracker.models import Channel, Workspace
from tracker.services.feedback import feedback_create
from tracker.web import forms as f
from tracker.web.common import apply_errors

RATE_LIMIT = 5  # submissions per IP and workspace
RATE_WINDOW = 3600  # seconds


def _client_ip(request: HttpRequest) -> str:
    # X-Forwarded-For is whatever the client wants it to be, except for the hops our own
    # proxies append: with TRUSTED_PROXY_COUNT proxies, the client is that many hops from
    # the right. Without proxies, REMOTE_ADDR; a spoofable key would make the limit useless.
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "unknown")


def _over_limit(workspace: Workspace, ip: str) -> bool:
    # Counted in Redis; while Redis is down, per process (the form keeps working).
    return ratelimit.hit(f"public-feedback:{workspace.pk}:{ip}", RATE_WINDOW) > RATE_LIMIT


@csrf_protect
def public_feedback(request: HttpRequest, ws: str) -> HttpResponse:
    workspace = get_object_or_404(Workspace.objects.only("pk", "slug", "name"), slug=ws)
    context = {"public_workspace": workspace}
    if request.method != "POST":
        return render(request, "tracker/public_feedback.html", {**context, "form": f.PublicFeedbackForm()})
    form = f.PublicFeedbackForm(request.POST)
    if _over_limit(workspace, _client_ip(request)):
        form.is_valid()
        form.add_error(None, "You have sent a lot of feedback in a short time. Please try again in an hour.")
        return render(request, "tracker/public_feedback.html", {**context, "form": form}, status=429)
    if form.is_valid():
        data = form.cleaned_data
        if data["website"]:
            # A bot filled in the hidden field: thank it and store nothing.
            return render(request, "tracker/public_thanks.html", context)
        try:
            feedback_create(
                workspace=workspace,
                actor=None,
                body=data["body"],
                customer_email=data["email"],
                customer_name=data["name"],
                channel=Channel.WEB_FORM,
                nps=data["nps"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return render(request, "tracker/public_thanks.html", context)
    return render(request, "tracker/public_feedback.html", {**context, "form": form}, status=422)
