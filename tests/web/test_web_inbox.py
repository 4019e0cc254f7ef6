import pytest

from tests import factories as f
from tracker.models import BacklogItem, Feedback, FeedbackLink, TriageState

pytestmark = pytest.mark.django_db


@pytest.fixture
def feedback(workspace):
    customer = f.CustomerFactory(workspace=workspace, name="Zoe Quill")
    return f.FeedbackFactory(workspace=workspace, customer=customer, body="The checkout button is hidden on mobile")


def test_the_inbox_lists_new_feedback_newest_first(login, po, url, workspace, feedback):
    older = f.FeedbackFactory(workspace=workspace, body="Older words")
    older.received_at = feedback.received_at.replace(year=feedback.received_at.year - 1)
    older.save()
    body = login(po).get(url("inbox/", project_page=False)).content.decode()
    assert body.index("checkout button") < body.index("Older words")
    assert "Zoe Quill" in body


def test_text_search_and_score_filters_narrow_the_inbox(login, po, url, workspace, feedback):
    f.FeedbackFactory(workspace=workspace, body="Happy with everything", nps=10)
    client = login(po)
    body = client.get(url("inbox/?q=checkout", project_page=False)).content.decode()
    assert "checkout button" in body and "Happy with" not in body
    body = client.get(url("inbox/?score=promoter", project_page=False)).content.decode()
    assert "Happy with" in body and "checkout button" not in body


def test_the_detail_fragment_shows_the_whole_feedback_and_the_actions(login, po, url, feedback):
    response = login(po).get(url(f"inbox/{feedback.pk}/", project_page=False), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "The checkout button is hidden on mobile" in body
    assert 'id="act-link"' in body and 'id="act-dismiss"' in body


def test_linking_to_an_item_stores_the_quote(login, po, url, feedback, make_items):
    (item,) = make_items(1, linked=False)
    response = login(po).post(
        url(f"inbox/{feedback.pk}/link/", project_page=False),
        {"item": str(item.pk), "quote": "button is hidden"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and b"Linked to SHOP-1" in response.content
    assert FeedbackLink.objects.get(feedback=feedback, item=item).quote == "button is hidden"
    assert b'hx-swap-oob="outerHTML"' in response.content


def test_linking_without_picking_an_item_shows_an_error(login, po, url, feedback):
    response = login(po).post(
        url(f"inbox/{feedback.pk}/link/", project_page=False), {"quote": "x"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert b"Pick an item to link." in response.content
    assert not FeedbackLink.objects.exists()


def test_creating_an_item_from_feedback_links_it(login, po, url, project, feedback):
    response = login(po).post(
        url(f"inbox/{feedback.pk}/create/", project_page=False),
        {"project": "SHOP", "title": "Show the checkout button", "kind": "bug", "quote": "hidden on mobile"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    item = BacklogItem.objects.get(project=project, title="Show the checkout button")
    assert item.feedback_links.get().quote == "hidden on mobile"


def test_marking_a_duplicate_points_at_the_original(login, po, url, workspace, feedback):
    original = f.FeedbackFactory(workspace=workspace, body="Checkout button missing")
    login(po).post(
        url(f"inbox/{feedback.pk}/duplicate/", project_page=False),
        {"original": str(original.pk)},
        HTTP_HX_REQUEST="true",
    )
    feedback.refresh_from_db()
    assert feedback.triage == TriageState.DUPLICATE and feedback.duplicate_of_id == original.pk


def test_dismissing_feedback_takes_it_out_of_triage(login, po, url, feedback):
    login(po).post(url(f"inbox/{feedback.pk}/dismiss/", project_page=False), HTTP_HX_REQUEST="true")
    feedback.refresh_from_db()
    assert feedback.triage == TriageState.DISMISSED


def test_a_developer_can_read_but_not_triage(login, dev, url, feedback):
    client = login(dev)
    assert client.get(url("inbox/", project_page=False)).status_code == 200
    assert client.post(url(f"inbox/{feedback.pk}/dismiss/", project_page=False)).status_code == 403
    assert Feedback.objects.get(pk=feedback.pk).triage == TriageState.NEW


def test_feedback_of_another_workspace_is_not_found(login, po, url, other_workspace):
    foreign = f.FeedbackFactory(workspace=other_workspace)
    response = login(po).post(url(f"inbox/{foreign.pk}/dismiss/", project_page=False))
    assert response.status_code == 404


def test_the_item_picker_finds_items_by_key_and_words(login, po, url, make_items):
    make_items(2, linked=False)
    client = login(po)
    assert b"Story 1" in client.get(url("inbox/items/?q=SHOP-2", project_page=False)).content
    body = client.get(url("inbox/items/?q=story", project_page=False)).content
    assert b"Story 0" in body and b"Story 1" in body


def test_the_item_picker_never_offers_items_of_another_workspace(login, po, url, other_workspace):
    f.ItemFactory(project=f.ProjectFactory(workspace=other_workspace), title="Secret plan")
    assert b"Secret plan" not in login(po).get(url("inbox/items/?q=secret", project_page=False)).content


@pytest.mark.parametrize("size", [3, 40])
def test_the_inbox_runs_a_bounded_number_of_queries(login, po, url, workspace, size, django_assert_max_num_queries):
    for _ in range(size):
        f.FeedbackFactory(workspace=workspace)
    client = login(po)
    # session, user, membership with its workspace, project roles (4); count (capped), page
    # with customers (2); nav (2) = 8.
    with django_assert_max_num_queries(8):
        assert client.get(url("inbox/", project_page=False)).status_code == 200


def test_opening_a_feedback_link_without_htmx_shows_the_inbox_with_it_selected(login, po, url, feedback):
    client = login(po)
    response = client.get(url(f"inbox/{feedback.pk}/", project_page=False), follow=True)
    assert response.status_code == 200
    assert b'data-feedback-id="' + str(feedback.pk).encode() in response.content


def test_the_duplicate_picker_ignores_a_malformed_exclude(login, po, url, feedback):
    response = login(po).get(url("inbox/feedback/?q=checkout&exclude=nonsense", project_page=False))
    assert response.status_code == 200 and b"checkout button" in response.content
