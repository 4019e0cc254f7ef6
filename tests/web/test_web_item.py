import pytest

from tracker.models import Comment
from tracker.services.backlog import item_update

pytestmark = pytest.mark.django_db


def test_the_item_page_renders_markdown_and_strips_scripts(login, po, url, make_items):
    (item,) = make_items(1)
    item_update(item=item, actor=None, description="**Bold** <script>alert(1)</script> [x](javascript:alert(2))")
    body = login(po).get(url("items/1/")).content.decode()
    assert "<strong>Bold</strong>" in body
    assert "alert(1)" not in body.split('id="edit"')[0].replace("&lt;script&gt;alert(1)", "")
    assert 'href="javascript:' not in body


def test_the_item_page_shows_linked_feedback_and_the_impact_breakdown(login, po, url, make_items):
    make_items(1)
    body = login(po).get(url("items/1/")).content.decode()
    assert "fix 0" in body  # the quote
    assert "How this is computed" in body and "segment weight" in body


def test_editing_an_item_saves_and_redirects(login, dev, url, make_items):
    (item,) = make_items(1)
    response = login(dev).post(
        url("items/1/edit/"),
        {
            "version": item.version,
            "title": "Renamed",
            "kind": "bug",
            "status": "ready",
            "priority": "4",
            "estimate": "5",
            "labels": "mobile, checkout",
            "description": "",
            "acceptance_criteria": "",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.status, sorted(item.labels.values_list("name", flat=True))) == (
        "Renamed",
        "ready",
        ["checkout", "mobile"],
    )


def test_an_edit_of_a_stale_version_reports_the_conflict_and_saves_nothing(login, dev, url, make_items):
    (item,) = make_items(1)
    old_version = item.version
    item_update(item=item, actor=None, title="Changed by someone else")
    response = login(dev).post(
        url("items/1/edit/"),
        {
            "version": old_version,
            "title": "Mine",
            "kind": "story",
            "status": "backlog",
            "priority": "3",
            "estimate": "",
            "labels": "",
            "description": "",
            "acceptance_criteria": "",
        },
    )
    assert response.status_code == 422
    assert b"Someone else changed SHOP-1" in response.content
    item.refresh_from_db()
    assert item.title == "Changed by someone else"


def test_an_empty_title_re_renders_with_the_field_error(login, dev, url, make_items):
    (item,) = make_items(1)
    response = login(dev).post(
        url("items/1/edit/"),
        {
            "version": item.version,
            "title": " ",
            "kind": "story",
            "status": "backlog",
            "priority": "3",
            "estimate": "",
            "labels": "",
            "description": "",
            "acceptance_criteria": "",
        },
    )
    assert response.status_code == 422
    item.refresh_from_db()
    assert item.title == "Story 0"


def test_a_stakeholder_can_comment_but_not_edit(login, stakeholder, url, make_items):
    (item,) = make_items(1)
    client = login(stakeholder)
    assert client.post(url("items/1/comments/"), {"body": "Looks great"}).status_code == 302
    assert Comment.objects.get(item=item).body == "Looks great"
    assert client.post(url("items/1/edit/"), {"version": item.version, "title": "x"}).status_code == 403


def test_an_empty_comment_shows_an_error(login, dev, url, make_items):
    make_items(1)
    response = login(dev).post(url("items/1/comments/"), {"body": ""})
    assert response.status_code == 422
    assert not Comment.objects.exists()


def test_an_unknown_item_is_not_found(login, po, url):
    assert login(po).get(url("items/999/")).status_code == 404


@pytest.mark.parametrize("links", [1, 15])
def test_the_item_page_runs_a_bounded_number_of_queries(
    login, po, url, workspace, make_items, links, django_assert_max_num_queries
):
    from tests import factories as f
    from tracker.services.feedback import feedback_link

    (item,) = make_items(1)
    for n in range(links):
        feedback_link(feedback=f.FeedbackFactory(workspace=workspace), item=item, actor=None, quote=f"q{n}")
    client = login(po)
    # session, user, membership with its workspace, project roles, project (5); item (1);
    # labels, links, impact (2), history, comments, objectives (7); edit form epics and
    # members (2); nav workspaces and projects (2) = 17.
    with django_assert_max_num_queries(17):
        assert client.get(url("items/1/")).status_code == 200


def test_editing_sets_the_epic_and_the_assignee(login, dev, url, project, make_items):
    from tracker.services.backlog import item_create

    (item,) = make_items(1)
    epic = item_create(project=project, actor=None, title="Checkout", kind="epic")
    fields = {"version": item.version, "title": "Story 0", "kind": "story", "status": "backlog", "priority": "3"}
    response = login(dev).post(url("items/1/edit/"), {**fields, "epic": str(epic.number), "assignee": str(dev.pk)})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.epic, item.assignee) == (epic, dev)


def test_an_assignee_from_outside_the_project_is_refused(login, dev, url, make_items, outsider):
    (item,) = make_items(1)
    fields = {"version": item.version, "title": "Story 0", "kind": "story", "status": "backlog", "priority": "3"}
    response = login(dev).post(url("items/1/edit/"), {**fields, "assignee": str(outsider.pk)})
    assert response.status_code == 422
    item.refresh_from_db()
    assert item.assignee is None
