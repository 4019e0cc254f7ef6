"""The pages are Jinja2 templates (templates/tracker/, environment in tracker.web.jinja): every
one of them renders in a realistic request, what users typed is escaped, and values print as
they did under Django's engine."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import jinja2
import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template import TemplateDoesNotExist, engines
from django.template.backends.jinja2 import Jinja2
from django.template.loader import get_template, render_to_string
from django.test import RequestFactory

from tests import factories as f
from tests.bg_helpers import webhook
from tracker import models as m
from tracker.services.backlog import item_create, item_update
from tracker.services.imports import import_start
from tracker.services.sprints import sprint_create
from tracker.services.tokens import token_create

pytestmark = pytest.mark.django_db

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
PAGES = sorted(p.relative_to(TEMPLATES_DIR).as_posix() for p in (TEMPLATES_DIR / "tracker").rglob("*") if p.is_file())


@pytest.fixture
def rendered(monkeypatch):
    """Names of the templates Jinja2 loads from here on: pages, what they extend and include."""
    names: set[str] = set()
    load = jinja2.Environment.get_template

    def spy(env, name, *args, **kwargs):
        if not name.startswith("django/forms/"):  # Django's own widget templates (FORM_RENDERER)
            names.add(name)
        return load(env, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "get_template", spy)
    return names


@pytest.mark.parametrize("name", PAGES)
def test_each_page_template_is_a_jinja2_template_that_django_templates_cannot_find(name):
    assert isinstance(get_template(name).backend, Jinja2)
    with pytest.raises(TemplateDoesNotExist):
        engines["django"].get_template(name)


def test_every_template_renders_in_a_realistic_request(
    rendered, client, login, owner, url, workspace, project, active_sprint
):
    sprint, items = active_sprint(3)
    sprint_create(project=project, actor=None, name="Sprint 2")
    item_create(project=project, actor=None, title="Not planned yet")
    feedback = items[0].feedback_links.get().feedback
    job = import_start(workspace=workspace, actor=owner, kind="feedback", filename="f.csv", data=b"text\nHi\n")
    hook = webhook(workspace, "https://hooks.example.com/in")
    m.WebhookDelivery.objects.create(webhook=hook, event="item.created", payload={"n": 1}, response_code=500)
    token_create(workspace=workspace, user=owner, name="CI")
    member = login(owner)
    pages = [
        member.get(url("", project_page=False)),
        member.get(url("backlog/")),
        member.get(url("board/")),
        member.get(url("planning/?sprint=2")),
        member.get(url(f"items/{items[0].number}/")),
        member.get(url(f"sprints/{sprint.number}/review/")),
        member.get(url(f"sprints/{sprint.number}/review/?format=md")),
        member.get(url(f"inbox/?triage=all&selected={feedback.pk}", project_page=False)),
        member.get(url("inbox/items/?q=Story", project_page=False)),
        member.get(url("inbox/feedback/?q=fix", project_page=False)),
        member.get(url(f"customers/{feedback.customer.pk}/", project_page=False)),
        member.get(url("reports/", project_page=False)),
        member.get(url("imports/", project_page=False)),
        member.get(url(f"imports/{job.pk}/", project_page=False)),
        member.get(url("settings/webhooks/", project_page=False)),
        member.get(url(f"settings/webhooks/{hook.pk}/", project_page=False)),
        member.get(url("settings/tokens/", project_page=False)),
        member.get(url("settings/")),
    ]
    error = member.post(url("sprints/2/start/"))  # Sprint 1 still runs
    client.logout()
    pages += [
        client.get("/login/"),
        client.get(url("feedback/new/", project_page=False)),
        client.post(url("feedback/new/", project_page=False), {"body": "Hi", "website": "bot"}),  # a bot: thanked
    ]
    client.force_login(f.UserFactory(username="nomad"))
    pages.append(client.get("/"))  # no workspace
    render_to_string("tracker/locked_out.html", lockout_context(), request=anonymous_request())

    assert sorted(rendered) == PAGES
    assert [page.status_code for page in pages] == [200] * len(pages)
    assert error.status_code == 422 and "still active" in error.content.decode()
    for page in [*pages, error]:
        body = page.content.decode()
        # A method the template forgot to call would print as its repr.
        assert "bound method" not in body and "{%" not in body, page.request["PATH_INFO"]


def anonymous_request():
    request = RequestFactory().post("/login/")
    request.user = AnonymousUser()
    return request


def lockout_context(**extra):
    """What django-axes gives its lockout template."""
    return {"failure_limit": 5, "username": "olivia", "cooloff_timedelta": timedelta(minutes=15), **extra}


def test_the_lockout_page_says_for_how_many_minutes(db):
    html = render_to_string("tracker/locked_out.html", lockout_context(), request=anonymous_request())
    assert "After 5 failed attempts, logging in as <strong>olivia</strong>" in html and "for 15 minutes" in html
    html = render_to_string(
        "tracker/locked_out.html",
        lockout_context(cooloff_timedelta=timedelta(seconds=150)),
        request=anonymous_request(),
    )
    assert "for 2 minutes" in html  # 2.5 rounds as Django's widthratio rounded it


def test_a_script_typed_by_a_user_or_a_customer_is_escaped_on_the_pages(login, po, url, workspace, project):
    script = '<script>alert("owned")</script>'
    item = item_create(project=project, actor=None, title=script)
    feedback = f.FeedbackFactory(workspace=workspace, customer=f.CustomerFactory(workspace=workspace, name=script))
    m.Feedback.objects.filter(pk=feedback.pk).update(body=script)
    client = login(po)
    pages = [url("backlog/"), url(f"items/{item.number}/"), url(f"inbox/?selected={feedback.pk}", project_page=False)]
    for page in pages:
        body = client.get(page).content.decode()
        assert "<script>alert" not in body, page
        assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in body, page


def test_the_markdown_export_is_plain_text_not_html(login, po, url, active_sprint):
    sprint, (item,) = active_sprint(1)
    item_update(item=item, actor=None, status=m.ItemStatus.DONE, title='Fix <b> & "quotes"')
    md = login(po).get(url(f"sprints/{sprint.number}/review/?format=md")).content.decode()
    assert 'Fix <b> & "quotes"' in md and "&lt;" not in md and "&amp;" not in md


def test_points_print_as_plain_numbers(login, po, url, project):
    item_create(project=project, actor=None, title="Ten", estimate=Decimal("10"))
    body = login(po).get(url("backlog/")).content.decode()
    # Decimal("10").normalize() is Decimal("1E+1"); pages show 10, as they did under Django.
    assert 'value="10"' in body and "1E+1" not in body


def test_a_history_restore_of_planning_gets_the_whole_page(login, po, url, project):
    # htmx asks for the whole page, but the view leaves out what only a first load needs
    # (the sprint form); the page renders without it, as it did under Django's engine.
    sprint_create(project=project, actor=None)
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    response = login(po).get(url("planning/"), headers=headers)
    assert response.status_code == 200 and "<h1>Sprint planning</h1>" in response.content.decode()


def test_a_comment_whose_author_was_deleted_is_by_someone(login, po, url, project):
    item = item_create(project=project, actor=None, title="Orphaned")
    m.Comment.objects.create(item=item, author=None, body="Still useful")
    body = login(po).get(url(f"items/{item.number}/")).content.decode()
    assert "<strong>Someone</strong>" in body and "Still useful" in body
