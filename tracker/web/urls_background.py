"""Pages for the background work: imports, project settings (digests), webhooks and their
delivery logs, API tokens."""

from django.urls import path

import tracker.converters  # noqa: F401 - registers pkey
from tracker.web import views_imports, views_settings

# Not namespaced: tracker.urls includes this module beside tracker.web.urls, and one app
# namespace cannot span two includes. Reverse these by plain name (url('imports', ws)).

urlpatterns = [
    path("<slug:ws>/imports/", views_imports.imports, name="imports"),
    path("<slug:ws>/imports/<uuid:pk>/", views_imports.import_detail, name="import_job"),
    path("<slug:ws>/<pkey:key>/settings/", views_settings.project_settings, name="project_settings"),
    path("<slug:ws>/settings/webhooks/", views_settings.webhooks, name="webhooks"),
    path("<slug:ws>/settings/webhooks/<uuid:pk>/", views_settings.webhook_detail, name="webhook"),
    path("<slug:ws>/settings/webhooks/<uuid:pk>/delete/", views_settings.webhook_remove, name="webhook_delete"),
    path(
        "<slug:ws>/settings/webhooks/<uuid:pk>/deliveries/<uuid:delivery>/redeliver/",
        views_settings.delivery_redeliver,
        name="delivery_redeliver",
    ),
    path("<slug:ws>/settings/tokens/", views_settings.tokens, name="tokens"),
    path("<slug:ws>/settings/tokens/<uuid:pk>/revoke/", views_settings.token_remove, name="token_revoke"),
]
