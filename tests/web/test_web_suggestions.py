"""Similarity suggestions in the inbox's feedback detail, with one-click triage."""

import pytest

from tests import factories as f
from tracker import models as m
from tracker.services.backlog import item_create
from tracker.services.feedback import feedback_create

TEXTS = [
    "I cannot log in with my Google account",
    "Login fails with Google sign in every time",
    "Please let me export my reports to Excel",
    "The dashboard is very slow to load",
    "Please add a dark mode for night use",
]


@pytest.fixture
def suggested(workspace, project, other_workspace, django_capture_on_commit_callbacks):
    """Feedback about Google login with a likely duplicate and a matching item; the same
    words in another workspace."""
    with django_capture_on_commit_callbacks(execute=True):
        foreign_project = m.Project.objects.create(workspace=other_workspace, key="OPS", name="Ops")
        item_create(project=foreign_project, actor=None, title="Google login fails")
        feedback_create(workspace=other_workspace, actor=None, body="Google login fails every time I sign in")
        item = item_create(project=project, actor=None, title="Google sign in fails")
        item_create(project=project, actor=None, title="Dark mode")
        others = [feedback_create(workspace=workspace, actor=None, body=text) for text in TEXTS]
        new = feedback_create(workspace=workspace, actor=None, body="Google login does not work when I sign in")
    return {"new": new, "duplicate": others[1], "item": item}


def detail(client, url, feedback):
    return client.get(url(f"inbox/{feedback.pk}/", project_page=False), headers={"HX-Request": "true"})


def test_the_detail_shows_similar_feedback_and_matching_items(login, po, url, suggested):
    body = detail(login(po), url, suggested["new"]).content.decode()
    assert "Similar feedback" in body and "Matching items" in body
    assert "Login fails with Google sign in every time" in body
    assert f'"original": "{suggested["duplicate"].pk}"' in body
    assert f'name="item" value="{suggested["item"].pk}"' in body
    assert 'value="Google login does not work when I sign in"' in body  # the quote, prefilled


def test_another_workspaces_feedback_and_items_are_never_suggested(login, po, url, suggested):
    body = detail(login(po), url, suggested["new"]).content.decode()
    assert "every time I sign in" not in body and "OPS-" not in body
    suggestions = m.Suggestion.objects.filter(feedback=suggested["new"]).select_related("similar_feedback", "item")
    assert suggestions.exists()
    for s in suggestions:
        target = s.similar_feedback.workspace_id if s.similar_feedback else s.item.project.workspace_id
        assert target == suggested["new"].workspace_id


def test_marking_a_suggested_duplicate_takes_one_click(login, po, url, suggested):
    new, original = suggested["new"], suggested["duplicate"]
    response = login(po).post(
        url(f"inbox/{new.pk}/duplicate/", project_page=False), {"original": original.pk}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    new.refresh_from_db()
    assert new.triage == m.TriageState.DUPLICATE and new.duplicate_of_id == original.pk


def test_linking_a_suggested_item_keeps_the_quote(login, po, url, suggested):
    new, item = suggested["new"], suggested["item"]
    response = login(po).post(
        url(f"inbox/{new.pk}/link/", project_page=False),
        {"item": item.pk, "quote": "Google login does not work"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    link = m.FeedbackLink.objects.get(feedback=new)
    assert (link.item_id, link.quote) == (item.pk, "Google login does not work")
    body = response.content.decode()
    assert f'name="item" value="{item.pk}"' not in body  # a linked item is no longer suggested


def test_members_who_cannot_triage_see_suggestions_without_the_buttons(login, dev, url, suggested):
    body = detail(login(dev), url, suggested["new"]).content.decode()
    assert "Similar feedback" in body and "Mark as duplicate of this" not in body


def test_feedback_without_suggestions_shows_no_section(login, po, url, workspace):
    lonely = f.FeedbackFactory(workspace=workspace, body="Zebra")
    body = detail(login(po), url, lonely).content.decode()
    assert "suggestion-list" not in body


@pytest.mark.parametrize("extra", [0, 12])
def test_the_detail_runs_a_fixed_number_of_queries(
    login, po, url, workspace, project, suggested, extra, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(extra):
            item_create(project=project, actor=None, title=f"Google login broken {n}")
            feedback_create(workspace=workspace, actor=None, body=f"Google login broken again {n}")
    from tracker.services.similarity import suggestions_refresh

    suggestions_refresh(suggested["new"].pk)
    client = login(po)
    # session, user, membership with its workspace, project roles (4); feedback with
    # customer (1); links (1); projects (1); suggestions with their feedback, customers,
    # items, projects (1) = 8 (a fragment: no nav).
    with django_assert_num_queries(8):
        assert detail(client, url, suggested["new"]).status_code == 200
