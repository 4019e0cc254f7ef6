"""The backlog as a Jira CSV export: Jira's columns, values and date format, so a team can
take its backlog to Jira, or back into Loopwise's own Jira CSV importer."""

import csv
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from django.db.models import Case, Count, F, Max, QuerySet, When

from tracker.models import BacklogItem, ItemKind, ItemStatus, Priority
from tracker.web.exports import _cell as spreadsheet_safe

# Jira writes "dd/MMM/yy h:mm a" with English months whatever the locale; strftime's %b
# follows the process locale, so the months are spelled out here.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ISSUE_TYPES = {
    ItemKind.EPIC: "Epic",
    ItemKind.STORY: "Story",
    ItemKind.BUG: "Bug",
    ItemKind.TASK: "Task",
    ItemKind.SPIKE: "Spike",
}
STATUS_CATEGORIES = {
    ItemStatus.BACKLOG: "To Do",
    ItemStatus.READY: "To Do",
    ItemStatus.IN_PROGRESS: "In Progress",
    ItemStatus.IN_REVIEW: "In Progress",
    ItemStatus.DONE: "Done",
    ItemStatus.WONT_DO: "Done",
}
HEAD = ["Summary", "Issue key", "Issue id", "Issue Type", "Status", "Status Category", "Priority"]
HEAD += ["Assignee", "Reporter", "Created", "Updated", "Resolved", "Sprint"]
TAIL = ["Custom field (Story Points)", "Custom field (Epic Link)", "Parent", "Description", "Custom field (Rank)"]
# What a row reads: the rest of an item's columns (and its people's password hashes) stay in the database.
ITEM_FIELDS = ("title", "number", "kind", "status", "priority", "estimate", "description", "rank")
ITEM_FIELDS += ("imported_assignee", "created_at", "updated_at", "done_at", "assignee", "created_by")
USER_FIELDS = ("username", "first_name", "last_name")
# Ranks are signed 64-bit (re-ranking to the top goes below zero): shifted to unsigned and
# zero-padded to the 20 digits of 2**64, they sort as text in backlog order.
RANK_OFFSET = 2**63
# Rows read, labelled (one more query) and sent as one piece of the body at a time.
CHUNK_SIZE = 2000


def jira_date(value: datetime | None) -> str:
    """`22/Sep/25 9:26 AM`, in UTC."""
    if value is None:
        return ""
    at = value.astimezone(UTC)
    hour = at.hour % 12 or 12
    noon = "AM" if at.hour < 12 else "PM"
    return f"{at.day:02d}/{MONTHS[at.month - 1]}/{at.year % 100:02d} {hour}:{at.minute:02d} {noon}"


def person(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def rank_text(rank: int) -> str:
    return f"{rank + RANK_OFFSET:020d}"


def label_columns(items: QuerySet[BacklogItem]) -> int:
    """How many Labels columns the file needs: Jira repeats the header, one label a column."""
    widest = items.annotate(label_count=Count("labels")).aggregate(widest=Max("label_count"))["widest"]
    return max(widest or 0, 1)


def header(labels: int) -> list[str]:
    return [*HEAD, *["Labels"] * labels, *TAIL]


def labels_of(items: list[BacklogItem]) -> dict[Any, list[str]]:
    """{item id: its label names, sorted}, in one query."""
    names: dict[Any, list[str]] = defaultdict(list)
    pairs = BacklogItem.labels.through.objects.filter(backlogitem_id__in=[item.pk for item in items])
    for item_id, name in pairs.order_by("label__name").values_list("backlogitem_id", "label__name"):
        names[item_id].append(name)
    return names


def live_number(link: str) -> Case:
    """The number of the item `link` names, None when it was deleted: the file holds only live
    items, and Jira refuses a row whose parent it cannot find."""
    return Case(When(**{f"{link}__deleted_at__isnull": True}, then=F(f"{link}__number")))


def row(item: BacklogItem, *, names: list[str], project_key: str, labels: int) -> list[str]:
    """One item as Jira's cells; `item` carries the annotations of `jira_csv`."""
    kind = ItemKind(item.kind)
    epic, parent = item.epic_number, item.parent_number  # type: ignore[attr-defined]
    issue_type = "Sub-task" if kind == ItemKind.TASK and parent is not None else ISSUE_TYPES[kind]
    return [
        item.title,
        f"{project_key}-{item.number}",
        str(item.number),
        issue_type,
        ItemStatus(item.status).label,
        STATUS_CATEGORIES[ItemStatus(item.status)],
        Priority(item.priority).label,
        person(item.assignee) or item.imported_assignee,
        person(item.created_by),
        jira_date(item.created_at),
        jira_date(item.updated_at),
        jira_date(item.done_at),
        item.sprint_name or "",  # type: ignore[attr-defined]
        *names,
        *[""] * (labels - len(names)),
        "" if item.estimate is None else str(item.estimate),
        f"{project_key}-{epic}" if epic is not None else "",
        f"{project_key}-{parent}" if parent is not None else "",
        item.description,
        rank_text(item.rank),
    ]


class _Echo:
    """A file for csv.writer whose write hands the formatted line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


def jira_csv(items: QuerySet[BacklogItem], *, project_key: str) -> Iterator[str]:
    """The file for `items` in backlog order, a piece at a time: a BOM (Excel reads the file
    as UTF-8 only with one), the header, then a row per item.

    Queries: the widest label count; the items, with epic, parent and sprint numbers or name
    and the assignee and reporter joined, read CHUNK_SIZE at a time (a server-side cursor on
    PostgreSQL); and per chunk one for their labels. Memory stays flat however large the backlog.
    """
    labels = label_columns(items)
    rows = (
        items.select_related("assignee", "created_by")
        .only(*ITEM_FIELDS, *[f"{user}__{name}" for user in ("assignee", "created_by") for name in USER_FIELDS])
        .annotate(epic_number=live_number("epic"), parent_number=live_number("parent"), sprint_name=F("sprint__name"))
        .order_by("rank", "id")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header(labels))
    while chunk := list(islice(rows, CHUNK_SIZE)):
        names = labels_of(chunk)
        lines = []
        for item in chunk:
            cells = row(item, names=names[item.pk], project_key=project_key, labels=labels)
            # Spreadsheets run cells starting with = + - @ as formulas: the sprint review's rule.
            lines.append(writer.writerow([spreadsheet_safe(cell) for cell in cells]))
        yield "".join(lines)
