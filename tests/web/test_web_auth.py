import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_login_page_renders_a_labelled_form(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'<label for="id_username">' in response.content


def test_logging_in_lands_in_the_first_workspace(client, po, workspace):
    response = client.post("/login/", {"username": "po", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/{workspace.slug}/"


def test_a_wrong_password_re_renders_the_login_with_an_error(client, po):
    response = client.post("/login/", {"username": "po", "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_the_root_sends_anonymous_visitors_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"


def test_the_root_sends_a_member_to_their_workspace(login, po, workspace):
    response = login(po).get("/")
    assert response["Location"] == f"/{workspace.slug}/"


def test_a_user_without_workspace_sees_an_explanation(login, db):
    response = login(f.UserFactory(username="lonely")).get("/")
    assert b"No workspace yet" in response.content


def test_logging_out_ends_the_session(login, po, url):
    client = login(po)
    client.post("/logout/")
    assert client.get(url("backlog/"))["Location"].startswith("/login/")


@pytest.mark.parametrize(
    "page",
    ["", "inbox/", "reports/", "SHOP/backlog/", "SHOP/planning/", "SHOP/board/", "SHOP/items/1/"],
)
def test_every_page_sends_anonymous_visitors_to_login(client, workspace, project, page):
    response = client.get(f"/{workspace.slug}/{page}")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize(
    "page",
    ["", "inbox/", "reports/", "SHOP/backlog/", "SHOP/planning/", "SHOP/board/", "SHOP/items/1/",
     "SHOP/sprints/1/review/", "customers/00000000-0000-0000-0000-000000000001/"],
)  # fmt: skip
def test_another_workspace_answers_404(login, outsider, workspace, project, page):
    assert login(outsider).get(f"/{workspace.slug}/{page}").status_code == 404


def test_the_workspace_home_lists_projects_and_the_nav(login, po, url, project):
    response = login(po).get(url(project_page=False))
    body = response.content.decode()
    assert response.status_code == 200
    assert f"/{project.workspace.slug}/SHOP/backlog/" in body
    assert 'aria-current="page"' in body


def test_an_unknown_project_key_answers_404(login, po, workspace):
    assert login(po).get(f"/{workspace.slug}/NOPE/backlog/").status_code == 404


def test_pages_carry_no_inline_scripts_or_event_handlers(login, po, url, make_items, active_sprint):
    active_sprint(2)
    client = login(po)
    for page in ("backlog/", "planning/", "board/", "items/1/", "sprints/1/review/"):
        body = client.get(url(page)).content.decode()
        assert "<script>" not in body and " onclick=" not in body and "hx-on" not in body, page
    for page in ("inbox/", "reports/"):
        body = client.get(url(page, project_page=False)).content.decode()
        assert "<script>" not in body and "hx-on" not in body, page


@pytest.mark.parametrize("projects", [1, 6])
def test_the_workspace_home_runs_a_bounded_number_of_queries(
    login, po, url, workspace, projects, django_assert_max_num_queries
):
    for _ in range(projects - 1):
        f.ProjectFactory(workspace=workspace)
    client = login(po)
    # session, user, membership with its workspace, project roles (4); projects with counts
    # and last review, their sprints, new feedback count, latest feedback (4); nav workspaces
    # and projects (2) = 10.
    with django_assert_max_num_queries(10):
        assert client.get(url(project_page=False)).status_code == 200
