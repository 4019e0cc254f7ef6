import socket

import pytest

from tests import factories as f
from tracker.models import History
from tracker.services.comments import comment_create
from tracker.services.customers import customer_create, customer_update
from tracker.services.errors import StaleVersion, ValidationError
from tracker.services.feedback import feedback_link
from tracker.services.projects import project_create, project_update
from tracker.services.urlsafety import check_outgoing_url


def test_a_comment_is_stored_and_written_to_history(project, po):
    item = f.ItemFactory(project=project)
    comment = comment_create(item=item, actor=po, body="  Looks good  ")
    assert comment.body == "Looks good"
    assert History.objects.filter(item=item, action="commented").exists()


def test_an_empty_comment_is_refused(project, po):
    with pytest.raises(ValidationError):
        comment_create(item=f.ItemFactory(project=project), actor=po, body=" ")


def test_a_customer_with_a_bad_email_or_negative_value_is_refused(workspace):
    with pytest.raises(ValidationError) as exc:
        customer_create(workspace=workspace, name="Ann", email="not-an-email", annual_value="-5")
    assert set(exc.value.message_dict) == {"email", "annual_value"}


def test_changing_a_customers_segment_refreshes_the_impact_of_their_items(workspace, project):
    customer = customer_create(workspace=workspace, name="Ann", annual_value="0")
    item = f.ItemFactory(project=project)
    feedback_link(feedback=f.FeedbackFactory(workspace=workspace, customer=customer), item=item, actor=None)
    item.refresh_from_db()
    before = item.impact_score
    customer_update(customer=customer, segment="management")
    item.refresh_from_db()
    assert item.impact_score > before


def test_customer_update_refuses_a_stale_version(workspace):
    customer = customer_create(workspace=workspace, name="Ann")
    customer_update(customer=customer, name="Anna")
    with pytest.raises(StaleVersion):
        customer_update(customer=customer, expected_version=1, name="Annie")


def test_a_project_needs_a_mix_that_adds_up(workspace):
    with pytest.raises(ValidationError) as exc:
        project_create(workspace=workspace, key="NEW", name="New", mix_end_customer=50)
    assert "100%" in exc.value.message_dict["mix_end_customer"][0]


def test_a_project_key_must_be_capitals(workspace):
    with pytest.raises(ValidationError) as exc:
        project_create(workspace=workspace, key="n1", name="New")
    assert "key" in exc.value.message_dict


def test_project_update_keeps_the_mix_at_100(project):
    with pytest.raises(ValidationError):
        project_update(project=project, mix_employee=50)
    project = project_update(project=project, mix_end_customer=40, mix_employee=40)
    assert project.target_mix["employee"] == 40 and project.version == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "http://user:pw@example.com/hook",
    ],
)
def test_webhook_urls_into_our_own_network_are_refused(url):
    with pytest.raises(ValidationError):
        check_outgoing_url(url)


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.1.2.3", 443))])
    with pytest.raises(ValidationError):
        check_outgoing_url("https://hooks.example.com/x")


def test_a_public_address_is_allowed_and_an_admin_may_allow_private(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 443))])
    check_outgoing_url("https://hooks.example.com/x")
    check_outgoing_url("http://127.0.0.1:9000/x", allow_private=True)
