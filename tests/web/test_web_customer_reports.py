import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_customer_page_shows_their_feedback_and_what_became_of_it(login, po, url, workspace, make_items):
    (item,) = make_items(1)
    customer = item.feedback_links.get().feedback.customer
    body = login(po).get(url(f"customers/{customer.pk}/", project_page=False)).content.decode()
    assert customer.name in body and "Please fix 0" in body and "SHOP-1" in body


def test_a_customer_of_another_workspace_is_not_found(login, po, url, other_workspace):
    stranger = f.CustomerFactory(workspace=other_workspace)
    assert login(po).get(url(f"customers/{stranger.pk}/", project_page=False)).status_code == 404


@pytest.mark.parametrize("size", [1, 15])
def test_the_customer_page_runs_a_bounded_number_of_queries(
    login, po, url, workspace, make_items, size, django_assert_max_num_queries
):
    from tracker.services.feedback import feedback_link

    items = make_items(size, linked=False)
    customer = f.CustomerFactory(workspace=workspace)
    for item in items:
        feedback_link(feedback=f.FeedbackFactory(workspace=workspace, customer=customer), item=item, actor=None)
    client = login(po)
    # session, user, membership with its workspace, project roles (4); customer (1);
    # feedback, links with items (2); notifications (1); visible projects (1); scores (1);
    # nav (2) = 12.
    with django_assert_max_num_queries(12):
        assert client.get(url(f"customers/{customer.pk}/", project_page=False)).status_code == 200


def test_reports_draw_velocity_feedback_volume_scores_and_loop_time(login, po, url, workspace):
    f.FeedbackFactory(workspace=workspace, nps=9, csat=5)
    body = login(po).get(url("reports/", project_page=False)).content.decode()
    for title in ("Velocity", "Feedback by channel", "Feedback by segment", "NPS by month", "Loop time"):
        assert title in body
    assert body.count("<svg") == 6


def test_a_guest_sees_reports_without_feedback_charts(login, workspace, project, url):
    from tracker import models as m

    guest = f.UserFactory(username="guest")
    f.MembershipFactory(workspace=workspace, user=guest, role=m.WorkspaceRole.GUEST)
    f.ProjectMembershipFactory(project=project, user=guest, role=m.ProjectRole.STAKEHOLDER)
    body = login(guest).get(url("reports/", project_page=False)).content.decode()
    assert "Velocity" in body and "Feedback by channel" not in body


@pytest.mark.parametrize("size", [2, 30])
def test_reports_run_a_bounded_number_of_queries(login, po, url, workspace, size, django_assert_max_num_queries):
    for _ in range(size):
        f.FeedbackFactory(workspace=workspace, nps=5)
    client = login(po)
    # session, user, membership with its workspace, project roles (4); projects (1);
    # velocity (1); by channel, by segment, scores, loop times (4); nav (2) = 12.
    with django_assert_max_num_queries(12):
        assert client.get(url("reports/", project_page=False)).status_code == 200
