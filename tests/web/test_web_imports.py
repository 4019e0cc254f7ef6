"""The imports pages: upload, refusal, the preview (statuses, problems, Import and Cancel),
progress polling, the final report, and what an imported item shows on its page."""

import re

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
# A Jira Cloud export's columns, with a team's own status (UAT, in the In Progress category)
# and a row without a summary.
JIRA_UAT = b"""\
Summary,Issue key,Issue id,Issue Type,Status,Status Category,Priority,Created,Resolved
Checkout fails on Safari,SHOP-101,10001,Bug,Done,Done,High,2025-01-02 10:00,2025-01-05 10:00
Faster search,SHOP-102,10002,Story,UAT,In Progress,Medium,2025-01-03 10:00,
Saved carts,SHOP-103,10003,Story,UAT,In Progress,Low,2025-01-04 10:00,
,SHOP-104,10004,Story,To Do,To Do,Low,2025-01-05 10:00,
Dark mode,SHOP-105,10005,Story,To Do,To Do,Low,2025-01-06 10:00,
"""


def upload(client, url, data, *, name="reviews.csv", **fields):
    return client.post(url("imports/", project_page=False), {"file": SimpleUploadedFile(name, data), **fields})


def preview_backlog(client, url, data=JIRA_UAT, *, name="jira.csv"):
    """Upload a backlog file into SHOP; the job (in preview) and its page's path."""
    response = upload(client, url, data, name=name, kind="backlog", project="SHOP")
    assert response.status_code == 302
    job = m.ImportJob.objects.get()
    assert response["Location"] == url(f"imports/{job.pk}/", project_page=False)
    return job, response["Location"]


def status_field(page: str, name: str) -> str:
    """The name of the select that maps the file's status `name` (its <label> points at it)."""
    found = re.search(rf'<label for="id_(status-\d+)">{re.escape(name)}</label>', page)
    assert found, f"no status select for {name}"
    return found.group(1)


def test_a_product_owner_imports_feedback_and_reads_the_report(
    login, po, url, workspace, django_capture_on_commit_callbacks
):
    client = login(po)
    response = upload(client, url, FEEDBACK_CSV, kind="feedback", source="appstore")
    job = m.ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/{workspace.slug}/imports/{job.pk}/"
    assert (job.kind, job.source, job.created_by, job.status) == ("feedback", "appstore", po, m.ImportStatus.PREVIEW)
    with django_capture_on_commit_callbacks(execute=True):  # runs the (eager) import task
        response = client.post(response["Location"], {"action": "import"})
    assert response.status_code == 302
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
    job, page = preview_backlog(client, url, JIRA_CSV)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(page, {"action": "import"}).status_code == 302
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
    job = import_start(
        workspace=other_workspace, actor=None, kind="feedback", filename="x.csv", data=b"text\nHello\n", preview=True
    )
    client = login(po)
    path = url(f"imports/{job.pk}/", project_page=False)
    assert client.get(path).status_code == 404
    assert client.post(path, {"action": "import"}).status_code == 404
    assert client.post(path, {"action": "cancel"}).status_code == 404
    job.refresh_from_db()
    assert job.status == m.ImportStatus.PREVIEW


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
    # check needs them); the job, its report read from the row (1); nav (2) = 6.
    with django_assert_num_queries(6):
        assert client.get(url(f"imports/{job.pk}/", project_page=False)).status_code == 200


# --- The preview -------------------------------------------------------------------------


def test_an_uploaded_backlog_shows_its_preview_and_writes_nothing(login, po, url, project):
    client = login(po)
    job, path = preview_backlog(client, url)
    page = client.get(path).content.decode()
    assert "Check before importing" in page
    assert 'Read 5 rows as <strong data-preview="format">Jira CSV export</strong>, UTF-8.' in page
    for name, value in {"rows": 5, "creates": 4, "updates": 0, "skipped": 0, "invalid": 1}.items():
        assert f'data-preview="{name}">{value}</span>' in page
    assert '"stat-label">rows in the file<' in page and '"stat-label">row with problems<' in page
    assert "<td>5</td><td>The summary (title) is empty</td>" in page  # the row's line in the file
    uat = status_field(page, "UAT")
    row = re.search(r'<tr data-status="UAT">.*?</tr>', page, re.S).group(0)
    assert "<td>In progress</td>" in row and '<td class="num">2</td>' in row
    assert f'name="{uat}"' in row and '<option value="in_progress" selected>In progress</option>' in row
    assert 'name="action" value="import"' in page and 'name="action" value="cancel"' in page
    job.refresh_from_db()
    assert job.status == m.ImportStatus.PREVIEW
    assert not m.BacklogItem.objects.filter(project=project).exists()
    assert not m.Sprint.objects.filter(project=project).exists()


def test_importing_from_the_preview_uses_the_chosen_statuses(
    login, po, url, project, django_capture_on_commit_callbacks
):
    client = login(po)
    job, path = preview_backlog(client, url)
    page = client.get(path).content.decode()
    chosen = {
        status_field(page, "Done"): "done",
        status_field(page, "UAT"): "in_review",  # proposed: in progress
        status_field(page, "To Do"): "ready",  # proposed: backlog
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"action": "import", **chosen})
    assert response.status_code == 302 and response["Location"] == path
    job.refresh_from_db()
    assert (job.status, job.created, job.error_count) == (m.ImportStatus.DONE, 4, 1)
    assert dict(m.BacklogItem.objects.filter(project=project).values_list("external_id", "status")) == {
        "SHOP-101": "done",
        "SHOP-102": "in_review",
        "SHOP-103": "in_review",
        "SHOP-105": "ready",
    }
    page = client.get(path).content.decode()
    assert "Import finished" in page and '<span class="stat-value" data-report="created">4</span>' in page
    assert "Check before importing" not in page


def test_a_status_outside_loopwises_is_refused_and_nothing_starts(login, po, url, project):
    client = login(po)
    job, path = preview_backlog(client, url)
    page = client.get(path).content.decode()
    fields = {status_field(page, n): "backlog" for n in ("Done", "To Do")}
    response = client.post(path, {"action": "import", **fields, status_field(page, "UAT"): "shipped"})
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    job.refresh_from_db()
    assert job.status == m.ImportStatus.PREVIEW
    assert not m.BacklogItem.objects.filter(project=project).exists()


def test_cancelling_a_preview_deletes_it_and_its_file(login, po, url, project):
    client = login(po)
    job, path = preview_backlog(client, url)
    response = client.post(path, {"action": "cancel"})
    assert response.status_code == 302 and response["Location"] == url("imports/", project_page=False)
    assert not m.ImportJob.objects.exists() and not m.ImportChunk.objects.exists()
    assert not m.BacklogItem.objects.filter(project=project).exists()
    assert client.get(path).status_code == 404


def test_a_started_import_cannot_be_cancelled(login, po, url, project, django_capture_on_commit_callbacks):
    client = login(po)
    job, path = preview_backlog(client, url, JIRA_CSV)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path, {"action": "import"})
    assert client.post(path, {"action": "cancel"})["Location"] == path
    job.refresh_from_db()
    assert job.status == m.ImportStatus.DONE
    assert m.BacklogItem.objects.filter(project=project).count() == 2


def test_a_cut_off_file_says_where_it_breaks_and_offers_no_import(login, po, url, project):
    cut = JIRA_UAT[: JIRA_UAT.index(b"Saved carts") + len("Saved carts,SHOP-103")]
    client = login(po)
    job, path = preview_backlog(client, url, cut)
    job.refresh_from_db()
    assert job.status == m.ImportStatus.FAILED
    page = client.get(path).content.decode()
    assert "This file cannot be imported" in page
    where = f"line 4, byte {cut.index(b'Saved carts')}"  # where the cut-off row starts
    assert f"The last row has 2 of 9 columns: the file was cut off — at {where}." in page
    assert "Nothing was imported." in page
    assert 'value="import"' not in page and "Check before importing" not in page
    assert client.post(path, {"action": "import"})["Location"] == path  # nothing to start
    assert not m.BacklogItem.objects.filter(project=project).exists()
    assert client.post(path, {"action": "cancel"})["Location"] == url("imports/", project_page=False)
    assert not m.ImportJob.objects.exists()


def test_a_file_that_is_not_utf8_says_what_it_was_read_as(login, po, url):
    data = "Summary,Issue key,Status\nCafé menu in the checkout,SHOP-1,Done\n".encode("cp1252")
    client = login(po)
    _, path = preview_backlog(client, url, data)
    page = client.get(path).content.decode()
    assert "This file is not UTF-8: it was read as Windows-1252." in page
    assert "Read 1 row as" in page and '"stat-label">row in the file<' in page
    assert '"stat-label">rows with problems<' in page  # none


def test_a_feedback_preview_shows_which_column_fills_which_field(login, po, url):
    client = login(po)
    response = upload(client, url, FEEDBACK_CSV, kind="feedback")
    page = client.get(response["Location"]).content.decode()
    for field, column in [("Text", "Review"), ("E-mail", "E-mail"), ("Customer name", "Customer"), ("NPS", "NPS")]:
        assert (
            f'<tr><td>{field}</td><td class="muted" aria-hidden="true">←</td><td><code>{column}</code></td></tr>'
            in page
        )
    assert "<td>4</td><td>NPS must be a whole number from 0 to 10, not 11</td>" in page
    assert "Statuses" not in page and 'value="import"' in page
    assert not m.Feedback.objects.exists()


def test_a_stakeholder_sees_a_backlog_preview_but_may_not_start_or_cancel_it(login, po, stakeholder, url, project):
    job, path = preview_backlog(login(po), url)
    client = login(stakeholder)
    page = client.get(path).content.decode()
    assert "Check before importing" in page and 'value="import"' not in page
    assert "Your role does not allow starting this import." in page
    assert client.post(path, {"action": "import"}).status_code == 403
    assert client.post(path, {"action": "cancel"}).status_code == 403
    job.refresh_from_db()
    assert job.status == m.ImportStatus.PREVIEW
    assert not m.BacklogItem.objects.filter(project=project).exists()


def test_a_developer_may_not_start_a_feedback_preview(login, po, dev, url):
    response = upload(login(po), url, FEEDBACK_CSV, kind="feedback")
    client = login(dev)
    assert 'value="import"' not in client.get(response["Location"]).content.decode()
    assert client.post(response["Location"], {"action": "import"}).status_code == 403
    assert m.ImportJob.objects.get().status == m.ImportStatus.PREVIEW and not m.Feedback.objects.exists()


@pytest.mark.parametrize("size", [2, 15])
def test_the_preview_page_runs_a_fixed_number_of_queries(
    login, po, url, workspace, project, size, django_assert_num_queries
):
    rows = "".join(f"Story {n},SHOP-{n},Status {n},In Progress\n,SHOP-x{n},Status {n},\n" for n in range(size))
    data = f"Summary,Issue key,Status,Status Category\n{rows}".encode()
    job = import_start(
        workspace=workspace, actor=po, kind="backlog", project=project, filename="j.csv", data=data, preview=True
    )
    client = login(po)
    # session, user, membership with its workspace (3); the job, its preview read from the
    # row (1); project roles, for who may start it (1); nav (2) = 7.
    with django_assert_num_queries(7):
        page = client.get(url(f"imports/{job.pk}/", project_page=False)).content.decode()
    assert page.count('<tr data-status="') == size and page.count("The summary (title) is empty") == size


# --- What an imported item shows ----------------------------------------------------------

SUBTASKS_CSV = b"""\
Summary,Issue key,Issue id,Issue Type,Status,Status Category,Parent,Assignee,Assignee Id,Comment
Checkout,SHOP-101,10001,Story,In Progress,In Progress,,Ann Lee,acc-1,02/Jan/25 10:00 AM;acc-1;Looks good to me
Pay button,SHOP-102,10002,Sub-task,To Do,To Do,10001,,,
"""


def test_an_imported_items_page_shows_its_parent_sub_tasks_and_imported_people(
    login, po, url, project, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client = login(po)
    _, path = preview_backlog(client, url, SUBTASKS_CSV)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path, {"action": "import", "status-0": "in_progress", "status-1": "backlog"})
    story = m.BacklogItem.objects.get(project=project, external_id="SHOP-101")
    subtask = m.BacklogItem.objects.get(project=project, external_id="SHOP-102")
    assert subtask.parent == story
    # As the item page's own query test, plus its sub-tasks (1; the parent is joined) = 18.
    with django_assert_max_num_queries(18):
        page = client.get(url(f"items/{story.number}/")).content.decode()
    assert 'Assigned to Ann Lee <span class="muted small">(imported, not a member)</span>' in page
    assert '<strong>Ann Lee</strong> <span class="muted small">(imported)</span>' in page
    assert "Looks good to me" in page
    subtasks = re.search(r'<section class="panel" id="subtasks">.*?</section>', page, re.S).group(0)
    assert f'href="{url(f"items/{subtask.number}/")}">SHOP-{subtask.number}</a>' in subtasks
    assert "Pay button" in subtasks
    page = client.get(url(f"items/{subtask.number}/")).content.decode()
    assert (
        f'Sub-task of <a href="{url(f"items/{story.number}/")}"><span class="key">SHOP-{story.number}</span> Checkout</a>'
        in page
    )
    assert 'id="subtasks"' not in page


def test_the_progress_poll_reloads_the_page_once_a_large_files_preview_is_ready(client, settings, workspace, owner):
    from tracker.services.imports import import_run, import_start

    settings.IMPORT_PREVIEW_INLINE_BYTES = 10
    job = import_start(
        workspace=workspace, actor=owner, kind="feedback", filename="f.csv", data=b"text\nHi\nHo\n", preview=True
    )
    client.force_login(owner)
    reading = client.get(f"/{workspace.slug}/imports/{job.pk}/", HTTP_HX_REQUEST="true")
    assert reading.status_code == 200 and "Reading the file" in reading.content.decode()
    import_run(job.pk)
    ready = client.get(f"/{workspace.slug}/imports/{job.pk}/", HTTP_HX_REQUEST="true")
    assert ready.status_code == 200 and ready.headers.get("HX-Refresh") == "true"
