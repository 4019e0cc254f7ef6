"""The shared layout: other pages extend it passing only workspace, actor and maybe project."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from tracker.access import actor_for

pytestmark = pytest.mark.django_db


def render_base(user, **context):
    request = RequestFactory().get("/somewhere/else/")
    request.user = user
    return render_to_string("tracker/base.html", context, request=request)


def test_the_layout_renders_with_only_workspace_and_actor(po, workspace, project):
    html = render_base(po, workspace=workspace, actor=actor_for(po, workspace))
    assert workspace.name in html
    assert f"/{workspace.slug}/SHOP/backlog/" in html  # the project switcher
    assert 'name="csrfmiddlewaretoken"' in html  # the logout form


def test_the_layout_marks_the_current_project(po, workspace, project):
    html = render_base(po, workspace=workspace, actor=actor_for(po, workspace), project=project)
    assert 'class="current-project"' in html and "Planning" in html


def test_the_layout_without_a_workspace_shows_no_navigation(po):
    html = render_base(po)
    assert 'class="sidebar"' not in html and "<main" in html
