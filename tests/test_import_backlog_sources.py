"""Backlog imports from the tools teams leave: what each export keeps when it comes in.

The real files in shared/data/real-exports (a Jira Cloud CSV, a GitHub issues API body)
and hand-made variants of each format: sub-tasks, epic links after their children, custom
statuses, multi-line quoted fields, Excel encodings, cut-off files, paginated GitHub output.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests import factories as f
from tracker.models import (
    BacklogItem,
    Comment,
    ImportChunk,
    ImportStatus,
    ItemKind,
    ItemStatus,
    Sprint,
    SprintState,
)
from tracker.services.imports import import_confirm, import_run, import_start


def backlog(workspace, project, data, filename="issues.csv", **kw):
    job = import_start(
        workspace=workspace, actor=None, kind="backlog", filename=filename, data=data, project=project, **kw
    )
    return import_run(job.pk) if job.status == ImportStatus.QUEUED else job


def items(project):
    return {i.external_id: i for i in BacklogItem.objects.filter(project=project).select_related("epic", "parent")}


@pytest.fixture
def real_jira(data_dir):
    return (data_dir / "real-exports" / "jira-testautogen-2025.csv").read_bytes()


@pytest.fixture
def real_github(data_dir):
    return (data_dir / "real-exports" / "gh-pygithub-2024.json").read_bytes()


# --- The real Jira Cloud export ------------------------------------------------------------


def test_the_real_jira_export_keeps_created_and_resolved_dates(workspace, project, real_jira):
    job = backlog(workspace, project, real_jira)
    assert job.status == ImportStatus.DONE and job.created == 22 and job.error_count == 0
    item = items(project)["TES-24"]
    assert item.created_at == datetime(2025, 9, 22, 9, 9, tzinfo=UTC)
    done = [i for i in items(project).values() if i.status == ItemStatus.DONE]
    assert len(done) == 10
    assert all(i.done_at is not None and i.done_at >= i.created_at for i in done)
    assert items(project)["TES-21"].done_at != items(project)["TES-21"].created_at


def test_the_real_jira_export_maps_status_priority_and_kind(workspace, project, real_jira):
    backlog(workspace, project, real_jira)
    got = items(project)
    assert got["TES-24"].status == ItemStatus.IN_PROGRESS
    assert got["TES-25"].status == ItemStatus.BACKLOG
    assert {i.priority for i in got.values()} == {3}
    assert got["TES-25"].kind == ItemKind.TASK


def test_the_real_jira_export_brings_its_sprint_assignees_and_comments(workspace, project, real_jira):
    backlog(workspace, project, real_jira)
    sprint = Sprint.objects.get(project=project, name="TES Sprint 1")
    assert BacklogItem.objects.filter(sprint=sprint).count() == 18
    assert sprint.state == SprintState.ACTIVE  # unfinished items, not carried on to a later sprint
    assert items(project)["TES-24"].imported_assignee == "Saicharan Basireddy"
    comments = Comment.objects.filter(item__project=project)
    assert comments.count() == real_jira.decode().count(";5fe07a7dd3649601392ba191;") + real_jira.decode().count(
        ";712020:b0892835-64bc-4809-afd1-cc09a3ffc20e;"
    )
    # Jira Cloud names comment authors by account id; the file's Assignee Id column names them.
    assert set(comments.values_list("author_name", flat=True)) <= {"Saicharan Basireddy", "Sai Sontineni"}
    assert not comments.filter(body__contains="[~accountid:").exists()


def test_the_real_jira_export_keeps_jira_rank_as_backlog_order(workspace, project, real_jira):
    backlog(workspace, project, real_jira)
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(real_jira.decode("utf-8-sig"))))
    by_rank = [r["Issue key"] for r in sorted(rows, key=lambda r: r["Custom field (Rank)"])]
    assert list(BacklogItem.objects.filter(project=project).order_by("rank").values_list("external_id", flat=True)) == (
        by_rank
    )


def test_importing_the_real_jira_export_again_changes_nothing(workspace, project, real_jira):
    backlog(workspace, project, real_jira)
    versions = {i.external_id: i.version for i in BacklogItem.objects.filter(project=project)}
    again = backlog(workspace, project, real_jira)
    assert (again.created, again.updated, again.error_count) == (0, 0, 0)
    assert {i.external_id: i.version for i in BacklogItem.objects.filter(project=project)} == versions
    assert Comment.objects.filter(item__project=project).count() == 17
    assert Sprint.objects.filter(project=project).count() == 1


# --- The real GitHub issues body -----------------------------------------------------------


def test_the_real_github_body_skips_its_pull_requests_and_keeps_dates(workspace, project, real_github):
    body = json.loads(real_github)
    issues = [i for i in body if not i.get("pull_request")]
    job = backlog(workspace, project, real_github, filename="issues.json")
    assert (job.format, job.created, job.skipped) == ("github_json", len(issues), len(body) - len(issues))
    first = issues[0]
    item = items(project)[str(first["number"])]
    assert item.created_at == datetime.fromisoformat(first["created_at"])
    assert item.title == first["title"]


# --- Jira CSV variants ---------------------------------------------------------------------

JIRA_HEADER = (
    "Summary,Issue key,Issue id,Issue Type,Status,Status Category,Priority,Resolution,Assignee,Assignee Id,"
    "Created,Resolved,Labels,Labels,Sprint,Sprint,Custom field (Story point estimate),Parent,"
    "Custom field (Epic Link),Comment,Description,Outward issue link (Blocks)\n"
)


def jira(*rows):
    return (JIRA_HEADER + "".join(rows)).encode()


JIRA_FILE = jira(
    # a sub-task before its parent, a story before its epic (linked by the epic's key)
    "Wire the form,APP-4,1004,Sub-task,In Progress,In Progress,High,,Ann Lee,acc-ann,"
    "03/Feb/25 10:00 AM,,,,Sprint 2,,1,1002,,,Sub-task of the login story,\n",
    "Log in with SSO,APP-2,1002,Story,UAT,In Progress,Highest,,,,02/Feb/25 9:00 AM,,auth,web,"
    'Sprint 1,Sprint 2,5,,APP-1,"05/Feb/25 2:30 PM;acc-ann;Looks good, ship it",'
    '"Two lines\nof description",APP-9\n',
    "Blocked by vendor,APP-3,1003,Bug,Blocked,In Progress,Low,,,,02/Feb/25 9:30 AM,,,,,,,,,,,\n",
    "Accounts,APP-1,1001,Epic,Done,Done,Medium,Done,,,01/Feb/25 8:00 AM,20/Feb/25 5:00 PM,,,Sprint 1,,,,,,,\n",
    "Old idea,APP-5,1005,Story,Closed,Done,Lowest,Won't Do,,,01/Jan/25 8:00 AM,02/Jan/25 8:00 AM,,,,,,,,,,\n",
)


def test_jira_custom_statuses_follow_their_status_category(workspace, project):
    backlog(workspace, project, JIRA_FILE)
    got = items(project)
    assert got["APP-2"].status == ItemStatus.IN_PROGRESS  # UAT, category In Progress
    assert got["APP-3"].status == ItemStatus.IN_PROGRESS  # Blocked
    assert got["APP-1"].status == ItemStatus.DONE
    assert got["APP-5"].status == ItemStatus.WONT_DO  # Done with the resolution Won't Do


def test_jira_epics_and_parents_are_applied_when_they_come_later_in_the_file(workspace, project):
    backlog(workspace, project, JIRA_FILE)
    got = items(project)
    assert got["APP-2"].epic == got["APP-1"]
    assert got["APP-4"].parent == got["APP-2"]  # named by the parent's numeric issue id
    assert got["APP-4"].kind == ItemKind.TASK


def test_jira_priority_labels_estimates_and_links_are_kept(workspace, project):
    backlog(workspace, project, JIRA_FILE)
    got = items(project)
    assert (got["APP-2"].priority, got["APP-3"].priority, got["APP-5"].priority) == (5, 2, 1)
    assert sorted(got["APP-2"].labels.values_list("name", flat=True)) == ["auth", "web"]
    assert got["APP-2"].estimate == Decimal("5.0")
    assert got["APP-2"].description.startswith("Two lines\nof description")
    assert "Blocks (outward): APP-9" in got["APP-2"].description


def test_jira_sprints_are_closed_when_their_items_went_on_to_a_later_one(workspace, project):
    backlog(workspace, project, JIRA_FILE)
    first, second = Sprint.objects.get(name="Sprint 1"), Sprint.objects.get(name="Sprint 2")
    assert first.state == SprintState.CLOSED and first.closed_at is not None
    assert second.state == SprintState.ACTIVE
    assert first.number < second.number
    assert items(project)["APP-2"].sprint == second


def test_jira_assignees_are_matched_to_members_by_name(workspace, project):
    ann = f.UserFactory(username="ann", first_name="Ann", last_name="Lee")
    f.MembershipFactory(workspace=workspace, user=ann)
    backlog(workspace, project, JIRA_FILE)
    got = items(project)
    assert got["APP-4"].assignee == ann and got["APP-4"].imported_assignee == ""
    comment = Comment.objects.get(item=got["APP-2"])
    assert comment.author == ann and comment.body == "Looks good, ship it"
    assert comment.created_at == datetime(2025, 2, 5, 14, 30, tzinfo=UTC)


def test_jira_dates_in_other_languages_are_read(workspace, project):
    data = jira("Datum,APP-7,1007,Task,Erledigt,Done,Medium,,,,05/Mär/25 14:03,06/Mär/25 09:00,,,,,,,,,,\n")
    backlog(workspace, project, data)
    item = items(project)["APP-7"]
    assert item.created_at == datetime(2025, 3, 5, 14, 3, tzinfo=UTC)
    assert item.status == ItemStatus.DONE and item.done_at == datetime(2025, 3, 6, 9, 0, tzinfo=UTC)


def test_a_jira_export_saved_by_excel_in_a_windows_encoding_is_read(workspace, project):
    data = jira("Café crème — résumé,APP-8,1008,Task,To Do,To Do,Medium,,,,01/Feb/25 8:00 AM,,,,,,,,,,,\n")
    job = backlog(workspace, project, data.decode().encode("cp1252"))
    assert job.status == ImportStatus.DONE and job.encoding == "cp1252"
    assert items(project)["APP-8"].title == "Café crème — résumé"
    assert "read as" in job.message


def test_a_jira_export_cut_off_in_a_quoted_field_writes_nothing(workspace, project):
    cut = JIRA_FILE[: JIRA_FILE.index(b"of description")]
    job = backlog(workspace, project, cut)
    assert job.status == ImportStatus.FAILED
    assert "cut off" in job.message and "line 3" in job.message and "byte" in job.message
    assert not BacklogItem.objects.exists() and not Sprint.objects.exists()


def test_a_jira_export_whose_last_row_is_cut_short_writes_nothing(workspace, project):
    cut = JIRA_FILE[: JIRA_FILE.rindex(b"02/Jan/25")]
    job = backlog(workspace, project, cut)
    assert job.status == ImportStatus.FAILED and "cut off" in job.message
    assert not BacklogItem.objects.exists()


def test_a_status_mapping_chosen_in_the_preview_is_applied(workspace, project):
    job = import_start(
        workspace=workspace, actor=None, kind="backlog", filename="a.csv", data=JIRA_FILE, project=project, preview=True
    )
    assert job.status == ImportStatus.PREVIEW and not BacklogItem.objects.exists()
    preview = job.mapping["scan"]
    assert preview["rows"] == 5 and preview["existing"] == 0
    import_confirm(job, statuses={"UAT": ItemStatus.IN_REVIEW})
    import_run(job.pk)
    assert items(project)["APP-2"].status == ItemStatus.IN_REVIEW
    assert items(project)["APP-3"].status == ItemStatus.IN_PROGRESS


# --- GitHub variants -----------------------------------------------------------------------


def gh_issue(number, **extra):
    return {
        "number": number,
        "title": f"Issue {number}",
        "body": "",
        "state": "open",
        "labels": [],
        "html_url": f"https://github.com/o/r/issues/{number}",
        "created_at": "2012-03-01T10:00:00Z",
        **extra,
    }


def test_2012_github_lists_with_empty_pull_request_objects_are_issues(workspace, project):
    body = [gh_issue(n, pull_request={"html_url": None, "diff_url": None, "patch_url": None}) for n in range(1, 4)]
    job = backlog(workspace, project, json.dumps(body).encode(), filename="issues.json")
    assert (job.created, job.skipped) == (3, 0)


def test_paginated_github_output_imports_every_page(workspace, project):
    pages = json.dumps([gh_issue(1), gh_issue(2)]) + "\n" + json.dumps([gh_issue(3)]) + json.dumps([gh_issue(4)])
    job = backlog(workspace, project, pages.encode(), filename="issues.json")
    assert job.created == 4 and set(items(project)) == {"1", "2", "3", "4"}


def test_github_closed_at_labels_milestones_types_and_assignees_are_kept(workspace, project):
    devon = f.UserFactory(username="devon")
    f.MembershipFactory(workspace=workspace, user=devon)
    milestone = {
        "title": "v1.0",
        "state": "closed",
        "created_at": "2024-01-01T00:00:00Z",
        "closed_at": "2024-01-20T00:00:00Z",
        "due_on": "2024-01-14T00:00:00Z",
    }
    body = [
        gh_issue(
            1,
            state="closed",
            closed_at="2024-01-10T12:00:00Z",
            labels=[{"name": "good first issue"}, {"name": "priority: high"}],
            milestone=milestone,
            assignee={"login": "devon"},
            type={"name": "Bug"},
        ),
        gh_issue(
            2,
            milestone={**milestone, "title": "v2.0", "state": "open", "closed_at": None},
            assignee={"login": "stranger"},
        ),
    ]
    backlog(workspace, project, json.dumps(body).encode(), filename="issues.json")
    one, two = items(project)["1"], items(project)["2"]
    assert one.done_at == datetime(2024, 1, 10, 12, tzinfo=UTC) and one.status == ItemStatus.DONE
    assert one.kind == ItemKind.BUG and one.priority == 4 and one.assignee == devon
    assert sorted(one.labels.values_list("name", flat=True)) == ["good first issue", "priority: high"]
    assert one.sprint.name == "v1.0" and one.sprint.state == SprintState.CLOSED
    assert two.imported_assignee == "stranger" and two.sprint.state == SprintState.PLANNED


def test_a_github_body_cut_off_writes_none_of_the_rows_before_the_break(workspace, project):
    body = json.dumps([gh_issue(n) for n in range(1, 20)])
    job = backlog(workspace, project, body[: len(body) // 2].encode(), filename="issues.json")
    assert job.status == ImportStatus.FAILED and "cut off" in job.message and "byte" in job.message
    assert not BacklogItem.objects.exists()
    assert not ImportChunk.objects.exclude(job=job).exists()


# --- Linear, Trello, Jira JSON -------------------------------------------------------------

LINEAR_CSV = (
    "ID,Team,Title,Description,Status,Estimate,Priority,Project,Creator,Assignee,Labels,Cycle Number,Cycle Name,"
    "Cycle Start,Cycle End,Created,Updated,Started,Completed,Canceled,Parent issue\n"
    'ENG-12,Engineering,Dark mode,Add a theme,Done,3,High,,Ann,Ann Lee,"ui, theme",4,Cycle 4,'
    "2024-03-04T00:00:00.000Z,2024-03-17T00:00:00.000Z,2024-03-01T09:00:00.000Z,2024-03-10T00:00:00.000Z,"
    "2024-03-05T00:00:00.000Z,2024-03-09T15:00:00.000Z,,\n"
    "ENG-13,Engineering,Dark mode toggle,,In Progress,1,Urgent,,Ann,,ui,,,,,2024-03-02T09:00:00.000Z,,"
    "2024-03-06T00:00:00.000Z,,,ENG-12\n"
)


def test_a_linear_export_keeps_cycles_priorities_labels_and_parents(workspace, project):
    job = backlog(workspace, project, LINEAR_CSV.encode(), filename="linear.csv")
    assert (job.format, job.source, job.created) == ("linear_csv", "linear", 2)
    got = items(project)
    assert got["ENG-12"].status == ItemStatus.DONE and got["ENG-12"].done_at == datetime(2024, 3, 9, 15, tzinfo=UTC)
    assert (got["ENG-12"].priority, got["ENG-13"].priority) == (4, 5)
    assert sorted(got["ENG-12"].labels.values_list("name", flat=True)) == ["theme", "ui"]
    assert got["ENG-13"].parent == got["ENG-12"]
    cycle = got["ENG-12"].sprint
    assert cycle.name == "Cycle 4" and str(cycle.start_date) == "2024-03-04" and cycle.state == SprintState.CLOSED


TRELLO = {
    "name": "Roadmap",
    "lists": [{"id": "l1", "name": "To Do"}, {"id": "l2", "name": "Doing"}, {"id": "l3", "name": "Done"}],
    "members": [{"id": "m1", "fullName": "Ann Lee", "username": "annlee"}],
    "labels": [{"id": "b1", "name": "Bug", "color": "red"}],
    "checklists": [{"id": "c1", "name": "Steps", "checkItems": [{"name": "Design", "state": "complete", "pos": 1}]}],
    "cards": [
        {
            "id": "65a0c0de0000000000000001",
            "shortLink": "aB1",
            "name": "Fix login",
            "desc": "It fails",
            "idList": "l2",
            "idLabels": ["b1"],
            "idMembers": ["m1"],
            "idChecklists": ["c1"],
            "closed": False,
            "pos": 2000,
            "dateLastActivity": "2024-01-12T10:00:00.000Z",
        },
        {
            "id": "65a0c0df0000000000000002",
            "shortLink": "aB2",
            "name": "Ship v1",
            "desc": "",
            "idList": "l3",
            "idLabels": [],
            "idMembers": [],
            "closed": False,
            "pos": 1000,
            "dateLastActivity": "2024-01-15T10:00:00.000Z",
        },
        {"id": "65a0c0e00000000000000003", "shortLink": "aB3", "name": "Archived", "idList": "l1", "closed": True},
    ],
    "actions": [
        {
            "type": "commentCard",
            "date": "2024-01-13T08:00:00.000Z",
            "data": {"card": {"id": "65a0c0de0000000000000001"}, "text": "On it"},
            "memberCreator": {"fullName": "Ann Lee", "username": "annlee"},
        },
    ],
}


def test_a_trello_board_becomes_a_backlog_with_lists_as_statuses(workspace, project):
    job = backlog(workspace, project, json.dumps(TRELLO, indent=2).encode(), filename="board.json")
    assert (job.format, job.created, job.skipped) == ("trello_json", 2, 1)
    got = items(project)
    assert got["aB1"].status == ItemStatus.IN_PROGRESS and got["aB2"].status == ItemStatus.DONE
    assert got["aB1"].kind == ItemKind.BUG and got["aB1"].imported_assignee == "Ann Lee"
    assert "- [x] Design" in got["aB1"].description
    assert got["aB1"].created_at == datetime.fromtimestamp(0x65A0C0DE, tz=UTC)
    assert Comment.objects.get(item=got["aB1"]).body == "On it"
    assert list(BacklogItem.objects.filter(project=project).order_by("rank").values_list("external_id", flat=True)) == [
        "aB2",
        "aB1",
    ]


JIRA_SEARCH = {
    "startAt": 0,
    "total": 2,
    "issues": [
        {
            "id": "2001",
            "key": "WEB-2",
            "fields": {
                "summary": "Checkout button",
                "issuetype": {"name": "Story", "subtask": False},
                "status": {"name": "In QA", "statusCategory": {"key": "indeterminate"}},
                "priority": {"name": "High"},
                "labels": ["checkout"],
                "components": [{"name": "Payments"}],
                "created": "2025-01-02T10:00:00.000+0100",
                "resolutiondate": None,
                "description": {
                    "type": "doc",
                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Make it green"}]}],
                },
                "parent": {"key": "WEB-1", "fields": {"issuetype": {"name": "Epic"}}},
                "customfield_10016": 3,
                "customfield_10019": "0|i0002:",
                "customfield_10020": [
                    {
                        "name": "WEB Sprint 7",
                        "state": "active",
                        "startDate": "2025-01-06T09:00:00.000Z",
                        "endDate": "2025-01-20T09:00:00.000Z",
                    }
                ],
                "assignee": {"displayName": "Sam Doe", "emailAddress": "sam@example.com"},
                "comment": {
                    "comments": [
                        {
                            "author": {"displayName": "Sam Doe"},
                            "created": "2025-01-03T10:00:00.000+0000",
                            "body": "Started",
                        }
                    ]
                },
            },
        },
        {
            "id": "2000",
            "key": "WEB-1",
            "fields": {
                "summary": "Payments",
                "issuetype": {"name": "Epic"},
                "status": {"name": "To Do", "statusCategory": {"key": "new"}},
                "created": "2025-01-01T10:00:00.000+0000",
                "customfield_10019": "0|i0001:",
            },
        },
    ],
}


def test_a_jira_search_result_keeps_parents_sprints_and_comments(workspace, project):
    sam = f.UserFactory(username="sdoe", email="sam@example.com", first_name="Sam", last_name="Doe")
    f.MembershipFactory(workspace=workspace, user=sam)
    job = backlog(workspace, project, json.dumps(JIRA_SEARCH).encode(), filename="search.json")
    assert (job.format, job.created, job.error_count) == ("jira_json", 2, 0)
    got = items(project)
    story = got["WEB-2"]
    assert story.epic == got["WEB-1"] and story.status == ItemStatus.IN_REVIEW
    assert story.priority == 4 and story.estimate == Decimal("3.0") and story.assignee == sam
    assert sorted(story.labels.values_list("name", flat=True)) == ["Payments", "checkout"]
    assert story.description == "Make it green"
    assert story.created_at == datetime(2025, 1, 2, 9, 0, tzinfo=UTC)
    assert story.sprint.name == "WEB Sprint 7" and story.sprint.state == SprintState.ACTIVE
    assert Comment.objects.get(item=story).author == sam


# --- Out and back in ---------------------------------------------------------------------


def test_a_backlog_exported_as_jira_csv_imports_back_with_its_fields(workspace, project, client):
    from tracker.api.exports import jira_csv

    backlog(workspace, project, JIRA_FILE)
    target = f.ProjectFactory(workspace=workspace, key="NEW", name="New")
    exported = "".join(jira_csv(BacklogItem.objects.filter(project=project), project_key=project.key))
    job = backlog(workspace, target, exported.encode(), filename="SHOP-items.csv", source="loopwise")
    assert job.status == ImportStatus.DONE and job.created == 5 and job.error_count == 0
    before, after = items(project), {i.title: i for i in BacklogItem.objects.filter(project=target)}
    for item in before.values():
        copy = after[item.title]
        assert (copy.kind, copy.status, copy.priority, copy.estimate) == (
            item.kind,
            item.status,
            item.priority,
            item.estimate,
        )
        assert copy.description == item.description
        assert (copy.epic.title if copy.epic else None) == (item.epic.title if item.epic else None)
        assert (copy.parent.title if copy.parent else None) == (item.parent.title if item.parent else None)
        assert sorted(copy.labels.values_list("name", flat=True)) == sorted(item.labels.values_list("name", flat=True))


def test_github_issues_as_json_lines_are_read_like_the_api_body(workspace, project):
    lines = "".join(json.dumps(gh_issue(n, state="closed", closed_at="2024-02-02T00:00:00Z")) + "\n" for n in (1, 2))
    job = backlog(workspace, project, lines.encode(), filename="issues.jsonl")
    assert (job.format, job.created) == ("github_json", 2)
    assert items(project)["1"].done_at == datetime(2024, 2, 2, tzinfo=UTC)


JIRA_DC = (
    "Summary,Issue key,Issue id,Parent id,Issue Type,Status,Priority,Resolution,Assignee,Reporter,Created,Updated,"
    "Resolved,Component/s,Component/s,Fix Version/s,Sprint,Custom field (Story Points),Custom field (Epic Link),"
    "Custom field (Epic Name)\n"
    "Release train,DC-1,20001,,Epic,Open,Major,,,alice,2023-01-05 10:00,2023-01-05 10:00,,,,,,,,Train\n"
    "Parser,DC-2,20002,,Story,Resolved,Critical,Fixed,bob,alice,2023-01-06 11:30,2023-02-01 09:00,"
    "2023-02-01 09:00,Core,CLI,2.0,DC Sprint 3,8,DC-1,\n"
    "Write tests,DC-3,20003,20002,Sub-task,Closed,Minor,Fixed,bob,alice,2023-01-07 08:00,2023-01-20 08:00,"
    "2023-01-20 08:00,,,,DC Sprint 3,,,\n"
)


def test_a_jira_data_center_export_keeps_components_sub_tasks_and_iso_dates(workspace, project):
    job = backlog(workspace, project, JIRA_DC.encode(), filename="dc.csv")
    assert (job.format, job.created, job.error_count) == ("jira_csv", 3, 0)
    got = items(project)
    assert got["DC-2"].epic == got["DC-1"] and got["DC-3"].parent == got["DC-2"]
    assert (got["DC-1"].priority, got["DC-2"].priority, got["DC-3"].priority) == (4, 5, 2)
    assert sorted(got["DC-2"].labels.values_list("name", flat=True)) == ["CLI", "Core"]
    assert got["DC-2"].status == ItemStatus.DONE and got["DC-2"].done_at == datetime(2023, 2, 1, 9, tzinfo=UTC)
    assert got["DC-2"].imported_assignee == "bob" and got["DC-2"].estimate == Decimal("8.0")
    assert Sprint.objects.get(name="DC Sprint 3").state == SprintState.CLOSED  # all its items are done


def test_priorities_and_status_categories_named_in_other_ways_are_understood(workspace, project):
    data = jira(
        "Eins,APP-10,1010,Story,Geprüft,Fertig,P1 - Critical,,,,01/Feb/25 8:00 AM,02/Feb/25 8:00 AM,,,,,,,,,,\n",
        "Deux,APP-11,1011,Story,Recette,En cours,2-High,,,,01/Feb/25 8:00 AM,,,,,,,,,,,\n",
    )
    backlog(workspace, project, data)
    got = items(project)
    assert (got["APP-10"].status, got["APP-10"].priority) == (ItemStatus.DONE, 5)
    assert (got["APP-11"].status, got["APP-11"].priority) == (ItemStatus.IN_PROGRESS, 4)


def test_a_central_european_export_is_read_in_its_own_encoding(workspace, project):
    data = jira("Příliš žluťoučký kůň,APP-9,1009,Task,To Do,To Do,Medium,,,,01/Feb/25 8:00 AM,,,,,,,,,,,\n")
    job = backlog(workspace, project, data.decode().encode("cp1250"))
    assert job.encoding == "cp1250" and items(project)["APP-9"].title == "Příliš žluťoučký kůň"


def test_jira_search_pages_one_after_another_or_gathered_in_an_array_are_all_read(workspace, project):
    first = {**JIRA_SEARCH, "issues": JIRA_SEARCH["issues"][:1]}
    second = {**JIRA_SEARCH, "startAt": 1, "issues": JIRA_SEARCH["issues"][1:]}
    job = backlog(workspace, project, (json.dumps(first) + "\n" + json.dumps(second)).encode(), filename="p.json")
    assert (job.format, job.created) == ("jira_json", 2)
    other = f.ProjectFactory(workspace=workspace, key="TWO", name="Two")
    job = backlog(workspace, other, json.dumps([first, second]).encode(), filename="pages.json")
    assert (job.format, job.created, job.error_count) == ("jira_json", 2, 0)


# --- What a review of real use found ------------------------------------------------------


def test_confirming_the_proposed_statuses_keeps_wont_do_resolutions(workspace, project):
    job = import_start(
        workspace=workspace, actor=None, kind="backlog", filename="a.csv", data=JIRA_FILE, project=project, preview=True
    )
    proposed = {s["name"]: s["default"] for s in job.mapping["scan"]["statuses"].values()}
    import_confirm(job, statuses=proposed)  # the web preview sends every select back
    import_run(job.pk)
    assert items(project)["APP-5"].status == ItemStatus.WONT_DO


def test_a_sub_task_in_a_later_file_finds_its_parent_by_jira_id(workspace, project):
    backlog(workspace, project, jira("Login,APP-20,5020,Story,To Do,To Do,Medium,,,,01/Feb/25 8:00 AM,,,,,,,,,,,\n"))
    later = jira("Button,APP-21,5021,Sub-task,To Do,To Do,Medium,,,,02/Feb/25 8:00 AM,,,,,,,5020,,,,\n")
    job = backlog(workspace, project, later)
    assert job.error_count == 0 and items(project)["APP-21"].parent == items(project)["APP-20"]


def test_a_source_without_estimates_keeps_the_estimate_set_in_loopwise(workspace, project):
    from tracker.services.backlog import item_update

    backlog(workspace, project, json.dumps([gh_issue(1)]).encode(), filename="issues.json")
    item = items(project)["1"]
    item_update(item=item, actor=None, estimate=Decimal("5"))
    backlog(workspace, project, json.dumps([gh_issue(1, title="Renamed")]).encode(), filename="issues.json")
    item = items(project)["1"]
    assert (item.title, item.estimate) == ("Renamed", Decimal("5.0"))


def test_undated_comments_are_not_added_again_on_a_reimport(workspace, project):
    data = jira("Talk,APP-30,5030,Task,To Do,To Do,Medium,,,,01/Feb/25 8:00 AM,,,,,,,,,Just a note,,\n")
    backlog(workspace, project, data)
    backlog(workspace, project, data)
    assert list(Comment.objects.values_list("body", flat=True)) == ["Just a note"]


def test_a_key_repeated_in_a_ranked_file_counts_once(workspace, project):
    header = "Summary,Issue key,Issue id,Issue Type,Status,Custom field (Rank)\n"
    rows = "A,K-1,1,Task,To Do,0|b\nB,K-2,2,Task,To Do,0|a\nC,K-3,3,Task,To Do,0|c\nB again,K-2,2,Task,To Do,0|d\n"
    job = backlog(workspace, project, (header + rows).encode())
    assert job.status == ImportStatus.DONE
    order = list(BacklogItem.objects.filter(project=project).order_by("rank").values_list("external_id", flat=True))
    assert order == ["K-1", "K-3", "K-2"]


def test_without_a_rank_the_backlog_keeps_the_files_order(workspace, project):
    header = "Summary,Issue key,Issue id,Issue Type,Status,Parent\n"
    rows = "One,G-1,1,Story,To Do,\nTwo,G-2,2,Epic,To Do,\nThree,G-3,3,Sub-task,To Do,1\nFour,G-4,4,Story,To Do,\n"
    backlog(workspace, project, (header + rows).encode())
    order = list(BacklogItem.objects.filter(project=project).order_by("rank").values_list("external_id", flat=True))
    assert order == ["G-1", "G-2", "G-3", "G-4"]


def test_generic_json_with_objects_for_type_and_priority_imports(workspace, project):
    body = [{"key": "X-1", "title": "Thing", "type": {"name": "Bug"}, "priority": ["high"], "status": {"name": "Done"}}]
    job = backlog(workspace, project, json.dumps(body).encode(), filename="x.json")
    assert job.status == ImportStatus.DONE and job.created == 1
    item = items(project)["X-1"]
    assert (item.kind, item.status) == (ItemKind.BUG, ItemStatus.DONE)


def test_a_trello_card_marked_complete_is_done_in_any_list(workspace, project):
    board = {**TRELLO, "cards": [{**TRELLO["cards"][0], "dueComplete": True}]}
    backlog(workspace, project, json.dumps(board).encode(), filename="board.json")
    assert items(project)["aB1"].status == ItemStatus.DONE
