import pytest

from tracker.models import BacklogItem, History, ItemStatus

pytestmark = pytest.mark.django_db


def ranked_titles(project):
    return list(BacklogItem.objects.in_project(project).order_by("rank").values_list("title", flat=True))


def test_the_backlog_lists_items_in_rank_order_with_impact_and_customers(login, po, url, make_items):
    make_items(3)
    body = login(po).get(url("backlog/")).content.decode()
    assert body.index("Story 0") < body.index("Story 1") < body.index("Story 2")
    assert "SHOP-1" in body and 'class="seg seg-end_customer"' in body


def test_the_backlog_paginates_instead_of_rendering_everything(login, po, url, make_items):
    make_items(55, linked=False)
    body = login(po).get(url("backlog/")).content.decode()
    assert body.count('class="key"><a') == 50
    assert "Page 1 of 2" in body


def test_filters_narrow_the_backlog(login, po, url, make_items):
    make_items(2, linked=False)
    make_items(1, linked=True)
    body = login(po).get(url("backlog/?has_feedback=yes")).content.decode()
    assert "SHOP-3" in body and "SHOP-1<" not in body


def test_sorting_by_impact_turns_off_drag_and_drop(login, po, url, make_items):
    make_items(2)
    body = login(po).get(url("backlog/?sort=impact")).content.decode()
    assert "data-sortable" not in body
    assert "sorted by customer impact" in body


def test_an_htmx_request_gets_only_the_list_fragment(login, po, url, make_items):
    make_items(1)
    body = login(po).get(url("backlog/"), HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<section id="backlog-list"')


def test_dragging_an_item_before_another_persists_the_order(login, dev, url, project, make_items):
    a, b, c = make_items(3, linked=False)
    response = login(dev).post(url("backlog/move/"), {"item": str(c.pk), "before": str(a.pk)}, HTTP_X_LOOPWISE_DRAG="1")
    assert response.status_code == 204
    assert ranked_titles(project) == ["Story 2", "Story 0", "Story 1"]


def test_the_keyboard_buttons_move_up_and_to_the_top(login, dev, url, project, make_items):
    a, b, c = make_items(3, linked=False)
    client = login(dev)
    client.post(url("backlog/move/"), {"item": str(b.pk), "direction": "down"}, HTTP_HX_REQUEST="true")
    assert ranked_titles(project) == ["Story 0", "Story 2", "Story 1"]
    response = client.post(url("backlog/move/"), {"item": str(b.pk), "position": "top"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b'id="backlog-list"' in response.content
    assert ranked_titles(project) == ["Story 1", "Story 0", "Story 2"]


def test_a_stakeholder_can_read_the_backlog_but_not_reorder_it(login, stakeholder, url, project, make_items):
    a, b = make_items(2, linked=False)
    client = login(stakeholder)
    assert client.get(url("backlog/")).status_code == 200
    response = client.post(url("backlog/move/"), {"item": str(b.pk), "position": "top"})
    assert response.status_code == 403
    assert ranked_titles(project) == ["Story 0", "Story 1"]


def test_moving_relative_to_an_item_of_another_project_is_not_found(login, dev, url, make_items, other_workspace):
    from tests import factories as f

    (a,) = make_items(1, linked=False)
    foreign = f.ItemFactory(project=f.ProjectFactory(workspace=other_workspace))
    response = login(dev).post(url("backlog/move/"), {"item": str(a.pk), "before": str(foreign.pk)})
    assert response.status_code == 404


def test_inline_create_adds_an_item_at_the_top(login, dev, url, project, make_items):
    make_items(1, linked=False)
    response = login(dev).post(
        url("backlog/items/"),
        {"title": "Faster search", "kind": "bug", "estimate": "3", "position": "top"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert ranked_titles(project)[0] == "Faster search"
    assert b"Faster search" in response.content


def test_inline_create_with_a_bad_estimate_shows_the_error_and_saves_nothing(login, dev, url, project):
    response = login(dev).post(
        url("backlog/items/"),
        {"title": "Faster", "kind": "story", "estimate": "-4", "position": "bottom"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#backlog-create"
    assert b"between 0 and 1000" in response.content
    assert not BacklogItem.objects.filter(project=project).exists()


def test_quick_edit_changes_status_and_writes_history(login, dev, url, make_items):
    (item,) = make_items(1, linked=False)
    response = login(dev).post(
        url("items/1/quick/"), {"version": item.version, "status": "ready", "estimate": "2"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.status == ItemStatus.READY
    assert History.objects.filter(item=item, field="status", new="ready").exists()


def test_quick_edit_of_a_stale_version_is_refused_with_a_conflict_message(login, dev, url, make_items):
    (item,) = make_items(1, linked=False)
    response = login(dev).post(url("items/1/quick/"), {"version": item.version - 1 or 99, "status": "done"})
    assert response.status_code == 409
    assert b"changed by someone else" in response.content
    item.refresh_from_db()
    assert item.status == ItemStatus.BACKLOG


def test_quick_edit_with_a_bad_estimate_changes_nothing(login, dev, url, make_items):
    (item,) = make_items(1, linked=False)
    response = login(dev).post(url("items/1/quick/"), {"version": item.version, "estimate": "lots"})
    assert response.status_code == 422
    assert b"number of points" in response.content
    item.refresh_from_db()
    assert item.estimate == 2


def test_a_stakeholder_cannot_quick_edit(login, stakeholder, url, make_items):
    (item,) = make_items(1, linked=False)
    assert (
        login(stakeholder).post(url("items/1/quick/"), {"version": item.version, "status": "done"}).status_code == 403
    )


@pytest.mark.parametrize("size", [5, 40])
def test_the_backlog_runs_a_bounded_number_of_queries(login, po, url, make_items, size, django_assert_max_num_queries):
    make_items(size)
    client = login(po)
    # session, user, membership with its workspace, project, project roles (5); count, page,
    # labels (3; segments are stored on the items); epics and labels for the filters (2);
    # nav workspaces and projects (2) = 12.
    with django_assert_max_num_queries(12):
        response = client.get(url("backlog/"))
    assert response.status_code == 200


def test_re_ranking_by_impact_puts_the_most_impactful_items_on_top(login, po, url, project, workspace, make_items):
    from tests import factories as f
    from tracker.services.feedback import feedback_link

    quiet, loud = make_items(2)
    for _ in range(3):
        feedback_link(feedback=f.FeedbackFactory(workspace=workspace, nps=1), item=loud, actor=None)
    response = login(po).post(url("backlog/rerank/?sort=impact"))
    assert response.status_code == 302 and "sort=" not in response["Location"]
    assert ranked_titles(project) == ["Story 1", "Story 0"]


def test_a_stakeholder_cannot_re_rank(login, stakeholder, url, make_items):
    make_items(1)
    assert login(stakeholder).post(url("backlog/rerank/")).status_code == 403


def test_a_ten_thousand_item_backlog_renders_one_page_with_the_same_queries(
    login, po, url, project, django_assert_max_num_queries
):
    from tracker.services.backlog import RANK_GAP

    BacklogItem.objects.bulk_create(
        BacklogItem(project=project, number=n, rank=n * RANK_GAP, title=f"Item {n}") for n in range(1, 10_001)
    )
    client = login(po)
    with django_assert_max_num_queries(12):
        body = client.get(url("backlog/")).content.decode()
    assert body.count('class="key"><a') == 50 and "Page 1 of 200" in body


def test_a_malformed_item_id_is_not_found(login, dev, url):
    assert login(dev).post(url("backlog/move/"), {"item": "not-a-uuid", "position": "top"}).status_code == 404


def test_a_history_restore_gets_the_whole_page(login, po, url, make_items):
    make_items(1)
    response = login(po).get(url("backlog/"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert b"<!doctype html>" in response.content
