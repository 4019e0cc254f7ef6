"""Closing the loop: one digest per customer per sprint, never twice."""

import pytest
from django.core import mail

from tests import factories as f
from tracker.models import CustomerNotification, Feedback, ItemStatus, LoopState, SprintState, TaskRecord
from tracker.services.backlog import item_create, item_update
from tracker.services.errors import ValidationError
from tracker.services.feedback import feedback_create, feedback_link
from tracker.services.notifications import digest_template_check, notification_preview, sprint_notify_customers
from tracker.services.sprints import sprint_add_items, sprint_close, sprint_create, sprint_start


@pytest.fixture
def shipped(project, workspace):
    """An active sprint with two done items answering Ann's two asks and Bob's one, plus
    feedback of Cid (no e-mail) and of Dee (whose other item is not done)."""
    ann = f.CustomerFactory(workspace=workspace, name="Ann", email="ann@example.com")
    bob = f.CustomerFactory(workspace=workspace, name="Bob", email="bob@example.com")
    cid = f.CustomerFactory(workspace=workspace, name="Cid", email="")
    dee = f.CustomerFactory(workspace=workspace, name="Dee", email="dee@example.com")
    sprint = sprint_create(project=project, actor=None, name="Sprint Falcon")
    search = item_create(project=project, actor=None, title="Search in saved posts")
    offline = item_create(project=project, actor=None, title="Offline reading")
    later = item_create(project=project, actor=None, title="Dark mode")
    sprint_add_items(sprint=sprint, items=[search, offline], actor=None)
    sprint_start(sprint=sprint, actor=None)
    asks = {
        "ann1": feedback_create(workspace=workspace, actor=None, customer=ann, body="I cannot search my saved posts"),
        "ann2": feedback_create(workspace=workspace, actor=None, customer=ann, body="Let me read offline on the train"),
        "bob": feedback_create(workspace=workspace, actor=None, customer=bob, body="Search saved stuff please"),
        "cid": feedback_create(workspace=workspace, actor=None, customer=cid, body="Search!"),
        "dee": feedback_create(workspace=workspace, actor=None, customer=dee, body="Offline and dark mode"),
    }
    feedback_link(feedback=asks["ann1"], item=search, actor=None, quote="search my saved posts")
    feedback_link(feedback=asks["ann2"], item=offline, actor=None)
    feedback_link(feedback=asks["bob"], item=search, actor=None)
    feedback_link(feedback=asks["cid"], item=search, actor=None)
    feedback_link(feedback=asks["dee"], item=offline, actor=None)
    feedback_link(feedback=asks["dee"], item=later, actor=None)
    for item in (search, offline):
        item_update(item=item, actor=None, status=ItemStatus.DONE)
    return sprint, asks


def test_closing_a_sprint_notifies_each_customer_once(shipped, django_capture_on_commit_callbacks):
    sprint, asks = shipped
    with django_capture_on_commit_callbacks(execute=True):
        sprint_close(sprint=sprint, actor=None)
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.com", "bob@example.com"]
    ann_mail = next(m for m in mail.outbox if m.to == ["ann@example.com"])
    assert ann_mail.subject == "What we shipped for you in Sprint Falcon"
    assert "Search in saved posts" in ann_mail.body and "Offline reading" in ann_mail.body
    assert '"search my saved posts"' in ann_mail.body  # the link's quote
    assert "Let me read offline on the train" in ann_mail.body  # no quote: their own words
    for key in ("ann1", "ann2", "bob"):
        fb = Feedback.objects.get(pk=asks[key].pk)
        assert fb.loop_state == LoopState.CLOSED and fb.notified_at is not None
    assert Feedback.objects.get(pk=asks["dee"].pk).notified_at is None  # still waits for dark mode
    assert Feedback.objects.get(pk=asks["cid"].pk).loop_state == LoopState.ADDRESSED  # no address to tell
    ann_note = CustomerNotification.objects.get(customer__name="Ann")
    assert ann_note.sent_at is not None and ann_note.feedback.count() == 2
    assert TaskRecord.objects.get(task="tracker.sprint_notify_task").state == "done"


def test_a_retried_task_or_a_reclosed_sprint_sends_nothing_again(shipped, django_capture_on_commit_callbacks):
    sprint, _ = shipped
    with django_capture_on_commit_callbacks(execute=True):
        sprint_close(sprint=sprint, actor=None)
    assert len(mail.outbox) == 2
    assert sprint_notify_customers(sprint_id=sprint.pk) == 0  # the task again
    sprint.state = SprintState.ACTIVE  # reopened …
    sprint.save(update_fields=["state"])
    with django_capture_on_commit_callbacks(execute=True):
        sprint_close(sprint=sprint, actor=None)  # … and closed again
    assert len(mail.outbox) == 2
    assert CustomerNotification.objects.count() == 2


def test_a_failed_send_is_undone_so_the_retry_sends_it(shipped, settings, django_capture_on_commit_callbacks):
    sprint, _ = shipped
    project = sprint.project
    project.notify_customers = False  # close without the task, then send by hand
    project.save(update_fields=["notify_customers"])
    sprint_close(sprint=sprint, actor=None)
    project.notify_customers = True
    project.save(update_fields=["notify_customers"])
    settings.EMAIL_BACKEND = "tests.test_bg_notifications.BrokenBackend"
    with pytest.raises(ConnectionRefusedError):
        sprint_notify_customers(sprint_id=sprint.pk)
    assert not CustomerNotification.objects.filter(sent_at__isnull=False).exists()
    assert not Feedback.objects.filter(notified_at__isnull=False).exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert sprint_notify_customers(sprint_id=sprint.pk) == 2
    assert len(mail.outbox) == 2


class BrokenBackend:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_the_project_setting_turns_digests_off(shipped, django_capture_on_commit_callbacks):
    sprint, _ = shipped
    sprint.project.notify_customers = False
    sprint.project.save(update_fields=["notify_customers"])
    with django_capture_on_commit_callbacks(execute=True):
        sprint_close(sprint=sprint, actor=None)
    assert mail.outbox == []
    assert notification_preview(sprint)["enabled"] is False


def test_the_preview_before_close_shows_recipients_and_rendered_digests(shipped):
    sprint, _ = shipped
    preview = notification_preview(sprint)
    assert preview["enabled"] and preview["recipients"] == 2
    assert [d["to"] for d in preview["digests"]] == ["ann@example.com", "bob@example.com"]
    assert "Search in saved posts" in preview["digests"][1]["body"]
    assert mail.outbox == []


def test_the_editable_template_renders_plain_text_without_escaping(shipped, django_capture_on_commit_callbacks):
    sprint, _ = shipped
    project = sprint.project
    project.digest_subject = "Done for {{ customer.name }} & co"
    project.digest_template = "{% for item in items %}{{ item.title }} <{{ item.key }}>\n{% endfor %}"
    project.save(update_fields=["digest_subject", "digest_template"])
    with django_capture_on_commit_callbacks(execute=True):
        sprint_close(sprint=sprint, actor=None)
    ann_mail = next(m for m in mail.outbox if m.to == ["ann@example.com"])
    assert ann_mail.subject == "Done for Ann & co"
    assert "<SHOP-1>" in ann_mail.body


def test_templates_cannot_load_libraries_include_files_or_debug():
    for body in (
        "{% load static %}",
        "{% include 'tracker/base.html' %}",
        "{% extends 'x' %}",
        "{% debug %}",
        "{% if %}",
    ):
        with pytest.raises(ValidationError) as exc:
            digest_template_check(subject="ok", body=body)
        assert "digest_template" in exc.value.message_dict
