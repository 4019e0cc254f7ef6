"""The backlog as a Jira CSV export: columns, values, permissions and a flat query count."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories as f
from tests.api.conftest import BASE, ITEMS
from tracker import models as m
from tracker.api.exports import jira_date

EXPORT = f"{ITEMS}export.csv"
JIRA_DATE = "%d/%b/%y %I:%M %p"
BOM = "\ufeff"


def body_of(response) -> str:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode("utf-8")


def export(client, **params) -> list[list[str]]:
    """The export's rows, header first."""
    text = body_of(client.get(EXPORT, params))
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(BOM))))


def by_key(rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[1]: row for row in rows[1:]}


def label(project, name: str) -> m.Label:
    return m.Label.objects.get_or_create(workspace=project.workspace, name=name)[0]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def full(project):
    """A sub-task with every exported field set, under a story in an epic."""
    epic = f.ItemFactory(project=project, number=1, kind=m.ItemKind.EPIC, title="Checkout")
    story = f.ItemFactory(project=project, number=2, epic=epic, title="One-page checkout")
    sprint = f.SprintFactory(project=project, number=4, name="Sprint 4")
    dana = f.UserFactory(username="dana", first_name="Dana", last_name="Scully")
    reporter = f.UserFactory(username="rita")
    task = f.ItemFactory(
        project=project,
        number=3,
        kind=m.ItemKind.TASK,
        title="Wire the payment form",
        description="Use the *new* API.\nSecond line, with a comma.",
        status=m.ItemStatus.DONE,
        priority=m.Priority.HIGH,
        estimate=Decimal("2.5"),
        rank=-5,
        epic=epic,
        parent=story,
        sprint=sprint,
        assignee=dana,
        imported_assignee="Dana S. (Jira)",
        created_by=reporter,
        done_at=at("2025-09-24T16:45:00"),
    )
    task.labels.add(label(project, "checkout"), label(project, "payments"))
    m.BacklogItem.objects.filter(pk=task.pk).update(
        created_at=at("2025-09-22T09:26:00"), updated_at=at("2025-09-24T00:05:00")
    )
    return task


def test_the_export_is_a_csv_attachment_named_after_the_project(admin_api, project):
    response = admin_api.get(EXPORT)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="SHOP-items.csv"'


def test_the_file_starts_with_a_bom_so_excel_reads_it_as_utf8(admin_api, project):
    f.ItemFactory(project=project, title="Café crème")
    raw = b"".join(admin_api.get(EXPORT).streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "Café crème" in raw.decode("utf-8")


def test_the_header_has_jiras_columns_in_order(admin_api, project):
    assert export(admin_api)[0] == [
        "Summary",
        "Issue key",
        "Issue id",
        "Issue Type",
        "Status",
        "Status Category",
        "Priority",
        "Assignee",
        "Reporter",
        "Created",
        "Updated",
        "Resolved",
        "Sprint",
        "Labels",
        "Custom field (Story Points)",
        "Custom field (Epic Link)",
        "Parent",
        "Description",
        "Custom field (Rank)",
    ]


def test_an_item_with_every_field_set_exports_each_as_jira_writes_it(admin_api, full):
    rows = export(admin_api)
    assert rows[0].count("Labels") == 2
    assert by_key(rows)["SHOP-3"] == [
        "Wire the payment form",
        "SHOP-3",
        "3",
        "Sub-task",
        "Done",
        "Done",
        "High",
        "Dana Scully",
        "rita",
        "22/Sep/25 9:26 AM",
        "24/Sep/25 12:05 AM",
        "24/Sep/25 4:45 PM",
        "Sprint 4",
        "checkout",
        "payments",
        "2.5",
        "SHOP-1",
        "SHOP-2",
        "Use the *new* API.\nSecond line, with a comma.",
        "09223372036854775803",
    ]


def test_an_assignee_who_is_not_a_member_is_exported_by_the_imported_name(admin_api, project):
    f.ItemFactory(project=project, number=1, imported_assignee="Jane From Jira")
    header, row = export(admin_api)
    assert row[header.index("Assignee")] == "Jane From Jira"


def test_items_with_fewer_labels_leave_the_extra_labels_columns_empty(admin_api, project):
    three = f.ItemFactory(project=project, number=1)
    three.labels.add(label(project, "a"), label(project, "b"), label(project, "c"))
    f.ItemFactory(project=project, number=2)
    rows = export(admin_api)
    labels = [i for i, name in enumerate(rows[0]) if name == "Labels"]
    assert labels == [13, 14, 15]
    assert [by_key(rows)["SHOP-1"][i] for i in labels] == ["a", "b", "c"]
    assert [by_key(rows)["SHOP-2"][i] for i in labels] == ["", "", ""]


def test_each_kind_maps_to_its_jira_issue_type_and_a_task_without_parent_stays_a_task(admin_api, project):
    for number, kind in enumerate(m.ItemKind.values, start=1):
        f.ItemFactory(project=project, number=number, kind=kind)
    header, *rows = export(admin_api)
    types = {row[header.index("Issue Type")] for row in rows}
    assert types == {"Epic", "Story", "Bug", "Task", "Spike"}


def test_each_status_exports_its_label_and_jira_status_category(admin_api, project):
    for number, status in enumerate(m.ItemStatus.values, start=1):
        f.ItemFactory(project=project, number=number, status=status)
    header, *rows = export(admin_api)
    status, category = header.index("Status"), header.index("Status Category")
    assert sorted((row[status], row[category]) for row in rows) == [
        ("Backlog", "To Do"),
        ("Done", "Done"),
        ("In progress", "In Progress"),
        ("In review", "In Progress"),
        ("Ready", "To Do"),
        ("Won't do", "Done"),
    ]


def test_rows_come_in_backlog_order_and_the_rank_column_sorts_the_same_as_text(admin_api, project):
    f.ItemFactory(project=project, number=1, rank=1_000)
    f.ItemFactory(project=project, number=2, rank=-3_000_000)
    f.ItemFactory(project=project, number=3, rank=-20)
    f.ItemFactory(project=project, number=4, rank=2**40)
    header, *rows = export(admin_api)
    assert [row[1] for row in rows] == ["SHOP-2", "SHOP-3", "SHOP-1", "SHOP-4"]
    ranks = [row[header.index("Custom field (Rank)")] for row in rows]
    assert ranks == sorted(ranks)


def test_deleted_items_are_left_out(admin_api, project):
    f.ItemFactory(project=project, number=1)
    f.ItemFactory(project=project, number=2, deleted_at=timezone.now())
    assert list(by_key(export(admin_api))) == ["SHOP-1"]


def test_links_to_a_deleted_epic_or_parent_are_left_out(admin_api, project):
    epic = f.ItemFactory(project=project, number=1, kind=m.ItemKind.EPIC, deleted_at=timezone.now())
    story = f.ItemFactory(project=project, number=2, deleted_at=timezone.now())
    f.ItemFactory(project=project, number=3, kind=m.ItemKind.TASK, epic=epic, parent=story)
    header, row = export(admin_api)
    cells = [row[header.index(name)] for name in ("Issue Type", "Custom field (Epic Link)", "Parent")]
    assert cells == ["Task", "", ""]


def test_the_status_filter_keeps_only_the_named_statuses(admin_api, project):
    f.ItemFactory(project=project, number=1, status=m.ItemStatus.DONE)
    f.ItemFactory(project=project, number=2, status=m.ItemStatus.READY)
    f.ItemFactory(project=project, number=3, status=m.ItemStatus.WONT_DO)
    assert sorted(by_key(export(admin_api, status="done,wont_do"))) == ["SHOP-1", "SHOP-3"]


def test_an_unknown_status_in_the_filter_is_a_400(admin_api, project):
    response = admin_api.get(EXPORT, {"status": "done,closed"})
    assert response.status_code == 400
    assert "closed" in response.json()["fields"]["status"][0]


def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_kept_as_text(admin_api, project):
    f.ItemFactory(project=project, number=1, title="=HYPERLINK(evil)")
    header, row = export(admin_api)
    assert row[header.index("Summary")] == "'=HYPERLINK(evil)"


def test_the_dates_read_back_with_jiras_date_format(admin_api, full):
    header, *rows = export(admin_api)
    row = by_key([header, *rows])["SHOP-3"]
    dates = [
        datetime.strptime(row[header.index(name)], JIRA_DATE).replace(tzinfo=UTC)
        for name in ("Created", "Updated", "Resolved")
    ]
    assert dates == [at("2025-09-22T09:26:00"), at("2025-09-24T00:05:00"), at("2025-09-24T16:45:00")]


def test_a_jira_date_is_in_utc_with_a_twelve_hour_clock():
    berlin = ZoneInfo("Europe/Berlin")
    assert jira_date(datetime(2025, 9, 22, 11, 26, tzinfo=berlin)) == "22/Sep/25 9:26 AM"
    assert jira_date(datetime(2026, 1, 5, 12, 0, tzinfo=UTC)) == "05/Jan/26 12:00 PM"
    assert jira_date(None) == ""


def test_an_empty_backlog_exports_the_header_with_one_labels_column(admin_api, project):
    rows = export(admin_api)
    assert len(rows) == 1
    assert rows[0].count("Labels") == 1


def test_another_workspaces_project_is_a_404(admin_api, project, foreign):
    assert admin_api.get(f"{BASE}/projects/OPS/items/export.csv").status_code == 404
    assert admin_api.get("/api/v1/workspaces/globex-test/projects/OPS/items/export.csv").status_code == 404


def test_a_guest_outside_the_project_gets_404_as_on_the_items_list(guest_api, project):
    assert guest_api.get(ITEMS).status_code == 404
    assert guest_api.get(EXPORT).status_code == 404


def test_whoever_may_list_the_items_may_export_them(guest_api, stakeholder_api, read_api, project):
    f.ProjectMembershipFactory(project=project, user=guest_api.token.user, role=m.ProjectRole.STAKEHOLDER)
    f.ItemFactory(project=project, number=1)
    for client in (guest_api, stakeholder_api, read_api):
        assert client.get(ITEMS).status_code == 200
        assert list(by_key(export(client))) == ["SHOP-1"]


def test_a_signed_in_browser_session_may_export(owner, project):
    f.ItemFactory(project=project, number=1)
    browser = Client()
    browser.force_login(owner)
    text = body_of(browser.get(EXPORT, HTTP_ACCEPT="text/csv"))
    assert "SHOP-1" in text


def test_an_anonymous_request_is_refused(project):
    assert Client().get(EXPORT).status_code in (401, 403)


def test_the_backlog_page_links_to_the_export(owner, project):
    browser = Client()
    browser.force_login(owner)
    page = browser.get("/acme-test/SHOP/backlog/").content.decode()
    assert 'href="/api/v1/workspaces/acme-test/projects/SHOP/items/export.csv"' in page


def backlog(project, owner, count: int, start: int) -> None:
    epic = f.ItemFactory(project=project, number=start, kind=m.ItemKind.EPIC)
    sprint = f.SprintFactory(project=project, number=start)
    for number in range(start + 1, start + count):
        item = f.ItemFactory(project=project, number=number, epic=epic, sprint=sprint, assignee=owner, created_by=owner)
        item.labels.add(label(project, f"l{number % 3}"), label(project, "shared"))


def queries_for(client) -> int:
    client.get(EXPORT)  # warm up: the token's last use is recorded once a minute
    with CaptureQueriesContext(connection) as ctx:
        body_of(client.get(EXPORT))
    return len(ctx.captured_queries)


def test_the_export_runs_a_fixed_number_of_queries(admin_api, project, owner):
    backlog(project, owner, 5, start=1)
    small = queries_for(admin_api)
    backlog(project, owner, 45, start=100)
    large = queries_for(admin_api)
    assert len(export(admin_api)) == 1 + 50
    # the token (with its user, workspace and role), the project, the widest label count,
    # the items (epic, parent and sprint by join, assignee and reporter with them), their labels
    assert small == large == 5
