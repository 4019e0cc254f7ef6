"""Project digest settings, webhooks with their delivery log, and API tokens."""

import pytest
from django.core import mail

from tests.bg_helpers import webhook
from tracker import models as m
from tracker.services.backlog import item_update
from tracker.services.sprints import sprint_close
from tracker.services.tokens import token_create

SETTINGS = {
    "mix_end_customer": 60,
    "mix_employee": 10,
    "mix_management": 10,
    "mix_partner": 20,
    "notify_customers": "on",
    "digest_subject": "Shipped in {{ sprint.name }} for {{ customer.name }}",
    "digest_template": "Hi {{ customer.name }},{% for item in items %}\n- {{ item.title }}{% endfor %}",
}


def post_settings(client, url, project, **changes):
    return client.post(url("settings/"), {**SETTINGS, "version": project.version, **changes})


# --- Project settings -------------------------------------------------------------------


def test_a_product_owner_edits_the_mix_and_the_digest(login, po, url, project):
    response = post_settings(login(po), url, project)
    assert response.status_code == 200 and "Settings saved." in response.content.decode()
    project.refresh_from_db()
    assert (project.mix_end_customer, project.mix_partner, project.notify_customers) == (60, 20, True)
    assert project.digest_subject.startswith("Shipped in")
    assert "Shipped in Sprint 12 for Ada Example" in response.content.decode()  # the rendered preview


def test_the_notify_toggle_turns_digests_off(login, po, url, project):
    data = {k: v for k, v in SETTINGS.items() if k != "notify_customers"}
    login(po).post(url("settings/"), {**data, "version": project.version})
    project.refresh_from_db()
    assert project.notify_customers is False


def test_a_broken_template_or_mix_is_refused_and_nothing_saved(login, po, url, project):
    before = (project.mix_end_customer, project.digest_template, project.version)
    client = login(po)
    response = post_settings(client, url, project, digest_template="{% for x in items %}")
    assert response.status_code == 422 and "The template has an error" in response.content.decode()
    response = post_settings(client, url, project, mix_partner=50)
    assert response.status_code == 422 and "must add up to 100%" in response.content.decode()
    response = post_settings(client, url, project, digest_template="{% include 'x.html' %}")
    assert response.status_code == 422 and "not allowed" in response.content.decode()
    project.refresh_from_db()
    assert (project.mix_end_customer, project.digest_template, project.version) == before


def test_a_stale_settings_form_is_not_saved(login, po, url, project):
    response = post_settings(login(po), url, project, version=project.version - 1)
    assert response.status_code == 422 and "changed these settings meanwhile" in response.content.decode()


def test_preview_renders_without_saving(login, po, url, project):
    response = post_settings(login(po), url, project, action="preview")
    assert "Shipped in Sprint 12" in response.content.decode()
    project.refresh_from_db()
    assert project.digest_subject != SETTINGS["digest_subject"]


def test_preview_answers_just_the_fragment_for_htmx(login, po, url, project):
    client = login(po)
    response = client.post(
        url("settings/"), {**SETTINGS, "version": project.version, "action": "preview"}, headers={"HX-Request": "true"}
    )
    assert response.content.decode().startswith('<section id="digest-preview"')


def test_only_product_owners_and_admins_change_project_settings(login, sm, stakeholder, owner, url, outsider):
    assert login(sm).get(url("settings/")).status_code == 403
    assert login(stakeholder).get(url("settings/")).status_code == 403
    assert login(owner).get(url("settings/")).status_code == 200
    assert login(outsider).get(url("settings/")).status_code == 404


def test_the_settings_page_runs_a_fixed_number_of_queries(login, po, url, django_assert_num_queries):
    client = login(po)
    # session, user, membership with its workspace, project roles (4); project (1); nav (2)
    # = 7; the preview renders from the project row.
    with django_assert_num_queries(7):
        assert client.get(url("settings/")).status_code == 200


def test_the_settings_link_shows_for_product_owners_only(login, po, dev, url):
    assert b"/acme-test/SHOP/settings/" in login(po).get(url("backlog/")).content
    assert b"/acme-test/SHOP/settings/" not in login(dev).get(url("backlog/")).content


def test_the_close_dialog_shows_the_digest_each_customer_will_get(login, po, sm, url, project, active_sprint):
    post_settings(login(po), url, project)
    sprint, (done, _) = active_sprint(2)
    item_update(item=done, actor=None, status=m.ItemStatus.DONE)
    body = login(sm).get(url("board/")).content.decode()
    dialog = body[body.index('id="close-dialog"') :]
    customer = done.feedback_links.get().feedback.customer
    assert f"Shipped in {sprint.name} for {customer.name}" in dialog
    assert "Customers who will be told (1)" in dialog


def test_the_customer_page_lists_the_digests_sent(
    login, po, url, workspace, active_sprint, django_capture_on_commit_callbacks
):
    sprint, (done,) = active_sprint(1)
    item_update(item=done, actor=None, status=m.ItemStatus.DONE)
    with django_capture_on_commit_callbacks(execute=True):
        sprint_close(sprint=sprint, actor=None)
    customer = done.feedback_links.get().feedback.customer
    assert len(mail.outbox) == 1
    page = login(po).get(url(f"customers/{customer.pk}/", project_page=False)).content.decode()
    section = page[page.index("Notifications sent") :]
    assert mail.outbox[0].subject in section and customer.email in section


# --- Webhooks ---------------------------------------------------------------------------


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(login, owner, url, workspace):
    client = login(owner)
    response = client.post(
        url("settings/webhooks/", project_page=False),
        # An address literal: the URL check resolves host names, and tests run offline.
        {"url": "https://93.184.216.34/in", "events": ["item.created", "sprint.closed"]},
    )
    hook = m.Webhook.objects.get(workspace=workspace)
    assert response.status_code == 200 and hook.secret in response.content.decode()
    assert hook.events == ["item.created", "sprint.closed"]
    again = client.get(url("settings/webhooks/", project_page=False)).content.decode()
    assert "https://93.184.216.34/in" in again and hook.secret not in again


def test_a_private_webhook_target_is_refused(login, owner, url):
    response = login(owner).post(url("settings/webhooks/", project_page=False), {"url": "http://127.0.0.1:9/x"})
    assert response.status_code == 422
    assert not m.Webhook.objects.exists()


def test_an_admin_deletes_a_webhook(login, owner, url, workspace):
    hook = webhook(workspace, "https://hooks.example.com/in")
    response = login(owner).post(url(f"settings/webhooks/{hook.pk}/delete/", project_page=False))
    assert response.status_code == 302 and not m.Webhook.objects.exists()


def test_only_admins_manage_webhooks(login, po, url, workspace, outsider, other_workspace):
    hook = webhook(workspace, "https://hooks.example.com/in")
    assert login(po).get(url("settings/webhooks/", project_page=False)).status_code == 403
    assert login(po).post(url(f"settings/webhooks/{hook.pk}/delete/", project_page=False)).status_code == 403
    assert login(outsider).get(url("settings/webhooks/", project_page=False)).status_code == 404
    foreign = webhook(other_workspace, "https://hooks.example.com/other")
    outsider_client = login(outsider)
    assert outsider_client.get(f"/{other_workspace.slug}/settings/webhooks/{hook.pk}/").status_code == 404
    assert outsider_client.get(f"/{other_workspace.slug}/settings/webhooks/{foreign.pk}/").status_code == 200
    assert m.Webhook.objects.filter(pk=hook.pk).exists()


def deliveries(hook, n):
    return [
        m.WebhookDelivery.objects.create(
            webhook=hook,
            event="item.created",
            payload={"title": f"<script>alert({i})</script>"},
            status=m.DeliveryStatus.FAILED,
            attempts=3,
            response_code=500,
        )
        for i in range(n)
    ]


def test_the_delivery_log_shows_each_attempt_with_the_payload_escaped(login, owner, url, workspace):
    hook = webhook(workspace, "https://hooks.example.com/in")
    deliveries(hook, 1)
    page = login(owner).get(url(f"settings/webhooks/{hook.pk}/", project_page=False)).content.decode()
    assert "item.created" in page and "Failed" in page and "<td>500</td>" in page and "<td>3</td>" in page
    assert "&lt;script&gt;alert(0)&lt;/script&gt;" in page and "<script>alert" not in page


def test_redeliver_sends_the_event_again_as_a_new_delivery(login, owner, url, workspace):
    hook = webhook(workspace, "https://hooks.example.com/in")
    (old,) = deliveries(hook, 1)
    response = login(owner).post(url(f"settings/webhooks/{hook.pk}/deliveries/{old.pk}/redeliver/", project_page=False))
    assert response.status_code == 302
    new = m.WebhookDelivery.objects.exclude(pk=old.pk).get()
    assert (new.event, new.payload, new.webhook_id) == (old.event, old.payload, hook.pk)


def test_a_delivery_of_another_webhook_cannot_be_redelivered_through_this_one(login, owner, url, workspace):
    hook = webhook(workspace, "https://hooks.example.com/in")
    other = webhook(workspace, "https://hooks.example.com/other")
    (delivery,) = deliveries(other, 1)
    path = url(f"settings/webhooks/{hook.pk}/deliveries/{delivery.pk}/redeliver/", project_page=False)
    assert login(owner).post(path).status_code == 404
    assert m.WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize("size", [2, 30])
def test_the_delivery_log_runs_a_fixed_number_of_queries(login, owner, url, workspace, size, django_assert_num_queries):
    hook = webhook(workspace, "https://hooks.example.com/in")
    deliveries(hook, size)
    client = login(owner)
    # session, user, membership with its workspace (3; an admin needs no project roles);
    # webhook (1); count and page of deliveries (2); nav (2) = 8.
    with django_assert_num_queries(8):
        assert client.get(url(f"settings/webhooks/{hook.pk}/", project_page=False)).status_code == 200


@pytest.mark.parametrize("size", [1, 10])
def test_the_webhook_list_runs_a_fixed_number_of_queries(login, owner, url, workspace, size, django_assert_num_queries):
    for n in range(size):
        webhook(workspace, f"https://hooks.example.com/{n}")
    client = login(owner)
    # session, user, membership with its workspace (3); webhooks (1); nav (2) = 6.
    with django_assert_num_queries(6):
        assert client.get(url("settings/webhooks/", project_page=False)).status_code == 200


# --- API tokens -------------------------------------------------------------------------


def test_a_member_creates_a_token_sees_it_once_and_revokes_it(login, dev, url, workspace):
    client = login(dev)
    response = client.post(url("settings/tokens/", project_page=False), {"name": "CI", "scope": "read"})
    token = m.ApiToken.objects.get(user=dev)
    body = response.content.decode()
    assert response.status_code == 200 and token.scope == "read"
    secret = body[body.index("lw_") :].split("<", 1)[0]
    assert token.prefix == secret[:11] and len(secret) > 40
    assert secret not in client.get(url("settings/tokens/", project_page=False)).content.decode()
    client.post(url(f"settings/tokens/{token.pk}/revoke/", project_page=False))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_bad_scope_re_renders_the_form(login, dev, url):
    response = login(dev).post(url("settings/tokens/", project_page=False), {"name": "x", "scope": "admin"})
    assert response.status_code == 422 and not m.ApiToken.objects.exists()


def test_members_see_and_revoke_only_their_own_tokens(login, dev, po, url, workspace):
    theirs = token_create(workspace=workspace, user=po, name="PO token").token
    client = login(dev)
    assert "PO token" not in client.get(url("settings/tokens/", project_page=False)).content.decode()
    assert client.post(url(f"settings/tokens/{theirs.pk}/revoke/", project_page=False)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_tokens_are_per_workspace(login, outsider, url):
    assert login(outsider).get(url("settings/tokens/", project_page=False)).status_code == 404


@pytest.mark.parametrize("size", [1, 10])
def test_the_tokens_page_runs_a_fixed_number_of_queries(login, dev, url, workspace, size, django_assert_num_queries):
    for n in range(size):
        token_create(workspace=workspace, user=dev, name=f"t{n}")
    client = login(dev)
    # session, user, membership with its workspace (3); your tokens (1); nav (2) = 6.
    with django_assert_num_queries(6):
        assert client.get(url("settings/tokens/", project_page=False)).status_code == 200


def test_the_navigation_links_the_new_pages_by_role(login, owner, dev, url):
    admin_page = login(owner).get(url("", project_page=False)).content.decode()
    assert "/acme-test/settings/webhooks/" in admin_page and "/acme-test/imports/" in admin_page
    dev_page = login(dev).get(url("", project_page=False)).content.decode()
    assert "/acme-test/settings/webhooks/" not in dev_page and "/acme-test/settings/tokens/" in dev_page
