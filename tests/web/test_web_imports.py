"""The imports pages: upload, refusal, progress polling and the final report."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories as f
from tracker import models as m
from tracker.services.imports import import_start

FEEDBACK_CSV = b"""\
Review,E-mail,Customer,NPS,ID
"Search is broken, please fix",ann@example.com,Ann,3,r1
Love the dark mode,bob@example.com,Bob,10,r2
Slow to load,cid@example.com,Cid,11,r3
"""
JIRA_CSV = b"""\
Summary,Issue key,Issue Type,Status,Story Points
Checkout fails on Safari,SHOP-101,Bug,Done,3
Faster search,SHOP-102,Story,In Progress,5
"""


def upload(client, url, data, *, name="reviews.csv", **fields):
    return client.post(url("imports/", project_page=False), {"file": SimpleUploadedFile(name, data), **fields})


def test_a_product_owner_imports_feedback_and_reads_the_report(
    login, po, url, workspace, django_capture_on_commit_callbacks
):
    client = login(po)
    with django_capture_on_commit_callbacks(execute=True):  # runs the (eager) import task
        response = upload(client, url, FEEDBACK_CSV, kind="feedback", source="appstore")
    job = m.ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/{workspace.slug}/imports/{job.pk}/"
    assert (job.kind, job.source, job.created_by) == ("feedback", "appstore", po)
    page = client.get(response["Location"]).content.decode()
    assert "Import finished" in page and 'hx-trigger="every 1s"' not in page
    assert '<span class="stat-value" data-report="created">2</span>' in page
    assert "<td>4</td><td>NPS must be a whole number from 0 to 10, not 11</td>" in page
    assert m.Feedback.objects.filter(workspace=workspace, source="appstore").count() == 2
    assert "reviews.csv" in client.get(url("imports/", project_page=False)).content.decode()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "logo.png", "not a CSV or JSON"),
        (b"colour,size\nred,3\n", "sizes.csv", "No usable columns"),
    ],
)
def test_a_refused_file_re_renders_the_form_with_the_reason_and_writes_nothing(login, po, url, data, name, message):
    response = upload(login(po), url, data, name=name, kind="feedback")
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not m.ImportJob.objects.exists() and not m.ImportChunk.objects.exists()


def test_a_backlog_import_needs_a_project(login, po, url):
    response = upload(login(po), url, JIRA_CSV, name="jira.csv", kind="backlog")
    assert response.status_code == 422 and "Choose the project" in response.content.decode()
    assert not m.ImportJob.objects.exists()


def test_a_developer_imports_a_backlog_but_not_feedback(login, dev, url, project, django_capture_on_commit_callbacks):
    client = login(dev)
    assert upload(client, url, FEEDBACK_CSV, kind="feedback").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, url, JIRA_CSV, name="jira.csv", kind="backlog", project="SHOP")
    assert response.status_code == 302
    assert sorted(m.BacklogItem.objects.filter(project=project).values_list("title", flat=True)) == [
        "Checkout fails on Safari",
        "Faster search",
    ]


def test_a_stakeholder_may_not_import_into_the_project(login, stakeholder, url):
    response = upload(login(stakeholder), url, JIRA_CSV, name="jira.csv", kind="backlog", project="SHOP")
    assert response.status_code == 403
    assert not m.ImportJob.objects.exists()


def test_guests_and_outsiders_see_no_imports(login, workspace, outsider, url):
    guest = f.UserFactory(username="guest")
    f.MembershipFactory(workspace=workspace, user=guest, role=m.WorkspaceRole.GUEST)
    assert login(guest).get(url("imports/", project_page=False)).status_code == 403
    assert login(outsider).get(url("imports/", project_page=False)).status_code == 404


def test_another_workspaces_import_is_not_found(login, po, url, other_workspace):
    job = import_start(workspace=other_workspace, actor=None, kind="feedback", filename="x.csv", data=b"text\nHello\n")
    assert login(po).get(url(f"imports/{job.pk}/", project_page=False)).status_code == 404


def test_a_running_import_polls_until_it_is_done(login, po, url, workspace):
    job = import_start(workspace=workspace, actor=None, kind="feedback", filename="x.csv", data=b"text\nHello\n")
    m.ImportJob.objects.filter(pk=job.pk).update(status=m.ImportStatus.RUNNING, rows_total=4, rows_done=1)
    client = login(po)
    page = client.get(url(f"imports/{job.pk}/", project_page=False)).content.decode()
    assert 'hx-trigger="every 1s"' in page and "1 of 4 rows · 25%" in page
    m.ImportJob.objects.filter(pk=job.pk).update(status=m.ImportStatus.DONE, rows_done=4, created=4)
    fragment = client.get(url(f"imports/{job.pk}/", project_page=False), headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert body.lstrip().startswith('<section id="import-progress"')  # just the fragment
    assert "hx-trigger" not in body and "Import finished" in body


@pytest.mark.parametrize("size", [2, 15])
def test_the_imports_list_runs_a_fixed_number_of_queries(
    login, po, url, workspace, project, size, django_assert_num_queries
):
    for n in range(size):
        import_start(workspace=workspace, actor=po, kind="feedback", filename=f"f{n}.csv", data=b"text\nHi\n")
        import_start(
            workspace=workspace, actor=po, kind="backlog", project=project, filename=f"j{n}.csv", data=JIRA_CSV
        )
    client = login(po)
    # session, user, membership with its workspace, project roles (4); visible projects (1);
    # recent jobs with project and uploader (1); nav: workspaces, projects (2) = 8.
    with django_assert_num_queries(8):
        assert client.get(url("imports/", project_page=False)).status_code == 200


def test_the_import_page_runs_a_fixed_number_of_queries(login, po, url, workspace, django_assert_num_queries):
    job = import_start(workspace=workspace, actor=po, kind="feedback", filename="f.csv", data=FEEDBACK_CSV)
    client = login(po)
    # session, user, membership with its workspace (3; project roles are read only when a
    # check needs them); job (1); its status (1); nav (2) = 7.
    with django_assert_num_queries(7):
        assert client.get(url(f"imports/{job.pk}/", project_page=False)).status_code == 200
