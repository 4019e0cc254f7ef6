"""Backlog sources: what a Jira, GitHub, Linear or Trello export says about one issue, read
into one shape (`Issue`), and the rules that turn it into Loopwise's fields.

Each source has a reader `record → Issue`. The import reads every record twice: a first
pass checks the whole file and collects what needs all rows (statuses with their
categories, sprints, people, Jira's rank order), then the write pass cleans each issue into
item fields for the write core. Parents and epics are applied after all items exist, so a
child may come before its parent in the file. docs/imports.md has the mapping tables.
"""

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tracker.models import ImportFormat, ItemKind, ItemStatus
from tracker.services.import_formats import normalize_header
from tracker.services.import_rows import RowInvalid, RowSkip, parse_when
from tracker.services.import_rows import _text as as_text


@dataclass
class Person:
    name: str = ""
    email: str = ""
    login: str = ""
    ref: str = ""  # an account id, to be named from elsewhere in the file

    def __bool__(self) -> bool:
        return bool(self.name or self.email or self.login or self.ref)


@dataclass
class SprintRef:
    name: str
    state: str = ""  # closed, active, future (as the source says), or "" when it does not
    start: datetime | None = None
    end: datetime | None = None
    closed: datetime | None = None


@dataclass
class Issue:
    external_id: str
    title: str
    alt_id: str = ""  # Jira's numeric issue id, which parents may be named by
    description: str = ""
    kind: str = ""  # a Loopwise kind, or "" to decide from labels
    type_name: str = ""
    subtask: bool = False
    status: str = ""
    category: str = ""  # todo, in_progress, done
    resolution: str = ""
    priority: int | None = None
    labels: list[str] = field(default_factory=list)
    created: datetime | None = None
    updated: datetime | None = None
    resolved: datetime | None = None
    estimate: Decimal | None = None
    estimate_known: bool = False  # the source has an estimate field (else a re-import keeps Loopwise's)
    parent: str = ""
    epic: str = ""
    sprints: list[SprintRef] = field(default_factory=list)
    assignee: Person = field(default_factory=Person)
    comments: list[tuple[datetime | None, Person, str]] = field(default_factory=list)
    rank: str = ""
    links: list[str] = field(default_factory=list)
    people: dict[str, str] = field(default_factory=dict)  # account id → name, seen on this row


# --- Shared rules --------------------------------------------------------------------------

STATUS_NAMES = {
    "open": ItemStatus.BACKLOG,
    "to_do": ItemStatus.BACKLOG,
    "todo": ItemStatus.BACKLOG,
    "backlog": ItemStatus.BACKLOG,
    "new": ItemStatus.BACKLOG,
    "reopened": ItemStatus.BACKLOG,
    "triage": ItemStatus.BACKLOG,
    "selected_for_development": ItemStatus.READY,
    "ready": ItemStatus.READY,
    "ready_for_development": ItemStatus.READY,
    "accepted": ItemStatus.READY,
    "in_progress": ItemStatus.IN_PROGRESS,
    "doing": ItemStatus.IN_PROGRESS,
    "started": ItemStatus.IN_PROGRESS,
    "in_development": ItemStatus.IN_PROGRESS,
    "in_review": ItemStatus.IN_REVIEW,
    "review": ItemStatus.IN_REVIEW,
    "reviewable": ItemStatus.IN_REVIEW,
    "code_review": ItemStatus.IN_REVIEW,
    "in_qa": ItemStatus.IN_REVIEW,
    "qa": ItemStatus.IN_REVIEW,
    "testing": ItemStatus.IN_REVIEW,
    "done": ItemStatus.DONE,
    "closed": ItemStatus.DONE,
    "resolved": ItemStatus.DONE,
    "fixed": ItemStatus.DONE,
    "complete": ItemStatus.DONE,
    "completed": ItemStatus.DONE,
    "shipped": ItemStatus.DONE,
    "released": ItemStatus.DONE,
    "won't_do": ItemStatus.WONT_DO,
    "won't_fix": ItemStatus.WONT_DO,
    "wont_do": ItemStatus.WONT_DO,
    "wont_fix": ItemStatus.WONT_DO,
    "not_planned": ItemStatus.WONT_DO,
    "canceled": ItemStatus.WONT_DO,
    "cancelled": ItemStatus.WONT_DO,
    "duplicate": ItemStatus.WONT_DO,
    "rejected": ItemStatus.WONT_DO,
}
CATEGORIES = {
    "to_do": "todo",
    "todo": "todo",
    "new": "todo",
    "undefined": "todo",
    "in_progress": "in_progress",
    "indeterminate": "in_progress",
    "done": "done",
    "complete": "done",
    # Jira's category names in its other languages
    "zu_erledigen": "todo",
    "in_arbeit": "in_progress",
    "fertig": "done",
    "erledigt": "done",
    "à_faire": "todo",
    "a_faire": "todo",
    "en_cours": "in_progress",
    "terminé": "done",
    "terminée": "done",
    "por_hacer": "todo",
    "en_curso": "in_progress",
    "listo": "done",
    "hecho": "done",
    "da_fare": "todo",
    "in_corso": "in_progress",
    "completato": "done",
    "te_doen": "todo",
    "in_uitvoering": "in_progress",
    "gereed": "done",
}
CATEGORY_STATUS = {"todo": ItemStatus.BACKLOG, "in_progress": ItemStatus.IN_PROGRESS, "done": ItemStatus.DONE}
# Resolutions that mean the work was not done, though Jira files the issue under Done.
NOT_DONE_RESOLUTIONS = frozenset(
    {
        "won't_do",
        "won't_fix",
        "wont_do",
        "wont_fix",
        "duplicate",
        "cannot_reproduce",
        "incomplete",
        "declined",
        "not_planned",
        "canceled",
        "cancelled",
    }
)
PRIORITIES = {
    "highest": 5,
    "blocker": 5,
    "critical": 5,
    "urgent": 5,
    "p0": 5,
    "high": 4,
    "major": 4,
    "p1": 4,
    "medium": 3,
    "normal": 3,
    "p2": 3,
    "low": 2,
    "minor": 2,
    "p3": 2,
    "lowest": 1,
    "trivial": 1,
    "p4": 1,
}
KINDS = {
    "bug": ItemKind.BUG,
    "defect": ItemKind.BUG,
    "epic": ItemKind.EPIC,
    "story": ItemKind.STORY,
    "user_story": ItemKind.STORY,
    "improvement": ItemKind.STORY,
    "new_feature": ItemKind.STORY,
    "feature": ItemKind.STORY,
    "enhancement": ItemKind.STORY,
    "task": ItemKind.TASK,
    "sub_task": ItemKind.TASK,
    "subtask": ItemKind.TASK,
    "documentation": ItemKind.TASK,
    "chore": ItemKind.TASK,
    "spike": ItemKind.SPIKE,
    "research": ItemKind.SPIKE,
}
SUBTASK_TYPES = frozenset({"sub_task", "subtask"})


@functools.lru_cache(maxsize=4096)
def _key(value: Any) -> str:
    return normalize_header(value).replace("-", "_")


@functools.lru_cache(maxsize=1024)
def status_category(value: Any) -> str:
    return CATEGORIES.get(_key(value), "") if value else ""


def default_status(name: str, category: str, resolution: str = "") -> str:
    """The Loopwise status for a source's status: by its name where Loopwise knows it, else
    by its category (Jira's To Do / In Progress / Done), else backlog."""
    status = STATUS_NAMES.get(_key(name)) or CATEGORY_STATUS.get(category) or ItemStatus.BACKLOG
    if status == ItemStatus.DONE and _key(resolution) in NOT_DONE_RESOLUTIONS:
        return ItemStatus.WONT_DO
    return status


def status_key(name: str, category: str) -> str:
    """How a status is named in a job's status mapping (the name as the file has it)."""
    return name or f"({category or 'none'})"


def priority_of(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, dict):
        value = value.get("name", "")
    if not isinstance(value, str):
        value = str(value)
    text = _key(value)
    if text in PRIORITIES:
        return PRIORITIES[text]
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w in PRIORITIES]  # "P1 - Critical", "2-High"
    named = [w for w in words if not re.fullmatch(r"p\d", w)]
    return PRIORITIES[(named or words)[0]] if words else None


def estimate_of(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        estimate = Decimal(str(value).strip().replace(",", ".")).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise RowInvalid(f"Story points {str(value)[:20]!r} is not a number") from None
    if not estimate.is_finite() or not 0 <= estimate <= 1000:
        raise RowInvalid("Story points must be between 0 and 1000")
    return estimate


def labels_of(values: Any, *, split: bool = False) -> list[str]:
    if values in (None, ""):
        return []
    if not isinstance(values, list):
        values = [values]
    names = []
    for value in values:
        if isinstance(value, dict):
            value = value.get("name", "")
        text = str(value or "")
        parts = re.split(r"[,;]", text) if split else [text]
        names.extend(p.strip() for p in parts)
    return sorted({n[:40] for n in names if n})


def _text(value: Any) -> str:
    return as_text(value).strip()


def _list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


# --- Jira CSV ------------------------------------------------------------------------------

ESTIMATE_COLUMNS = (
    "Custom field (Story Points)",
    "Custom field (Story point estimate)",
    "Story Points",
    "Story point estimate",
    "Custom field (Story points)",
)
EPIC_COLUMNS = ("Custom field (Epic Link)", "Epic Link", "Custom field (Epic link)")
PARENT_COLUMNS = ("Parent", "Parent id", "Parent key", "Parent Key", "Parent ID", "Parent issue")
RANK_COLUMNS = ("Custom field (Rank)", "Rank")
ID_PAIRS = (("Assignee", "Assignee Id"), ("Reporter", "Reporter Id"), ("Creator", "Creator Id"))
MENTION = re.compile(r"\[~accountid:([^\]]+)\]")


@functools.lru_cache(maxsize=512)
def _present(headers: tuple[str, ...], names: tuple[str, ...]) -> tuple[str, ...]:
    """Which of `names` the file has, in order of preference (once per file)."""
    have = set(headers)
    return tuple(n for n in names if n in have)


def _first(record: dict[str, Any], names: tuple[str, ...], headers: tuple[str, ...] | None = None) -> str:
    """The first non-empty value of the columns `names`."""
    for name in _present(headers or tuple(record), names):
        value = record[name]
        if isinstance(value, list):
            value = value[0] if value else ""
        if value:
            return str(value).strip()
    return ""


@functools.lru_cache(maxsize=64)
def _columns(headers: tuple[str, ...], prefix: str) -> tuple[str, ...]:
    """The headers named `prefix` (repeated) or `prefix (…)`/`prefix/s`, once per file."""
    return tuple(h for h in headers if h == prefix or h.startswith((prefix + " (", prefix + "/")))


@functools.lru_cache(maxsize=64)
def _link_columns(headers: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    out = []
    for header in headers:
        match = re.match(r"(Inward|Outward) issue link \((.+)\)", header)
        if match:
            out.append((header, match.group(2), match.group(1).lower()))
    return tuple(out)


def _all(record: dict[str, Any], prefix: str, headers: tuple[str, ...] | None = None) -> list[str]:
    """Every value of the columns named `prefix` (repeated) or `prefix (…)`/`prefix/s`."""
    out: list[str] = []
    for header in _columns(headers or tuple(record), prefix):
        value = record[header]
        if isinstance(value, list):
            out.extend(v for v in value if v.strip())
        elif value and value.strip():
            out.append(value)
    return out


def _unguarded(text: str) -> str:
    """Spreadsheet exports (Loopwise's among them) put a ' before a cell starting with
    = + - @ so that Excel does not run it as a formula; the text is without it."""
    return text[1:] if len(text) > 1 and text[0] == "'" and text[1] in "=+-@" else text


def jira_csv_issue(record: dict[str, Any]) -> Issue:
    headers = tuple(record)
    key = _first(record, ("Issue key", "Key", "Issue Key"), headers)
    people = {}
    for name_column, id_column in ID_PAIRS:
        name, ref = _first(record, (name_column,), headers), _first(record, (id_column,), headers)
        if name and ref:
            people[ref] = name
    for name, ref in zip(_list(record.get("Watchers")), _list(record.get("Watchers Id")), strict=False):
        if name and ref:
            people[ref] = name
    type_name = _first(record, ("Issue Type", "Issue type", "Type"), headers)
    assignee_name = _first(record, ("Assignee",), headers)
    comments = []
    for raw in _all(record, "Comment", headers):
        parts = raw.split(";", 2)
        if len(parts) == 3:
            try:
                at = parse_when(parts[0])
            except RowInvalid:
                at = None
            if at is not None:
                comments.append((at, Person(ref=parts[1].strip()), parts[2].strip()))
                continue
        comments.append((None, Person(), raw.strip()))
    links = []
    for header, link, direction in _link_columns(headers):
        for target in _list(record[header]):
            if target:
                links.append(f"{link} ({direction}): {target}")
    return Issue(
        external_id=key,
        alt_id=_first(record, ("Issue id", "Issue ID"), headers),
        title=_unguarded(_first(record, ("Summary",), headers)),
        description=_unguarded(_text(record.get("Description"))),
        type_name=type_name,
        subtask=_key(type_name) in SUBTASK_TYPES,
        status=_first(record, ("Status",), headers),
        category=status_category(_first(record, ("Status Category",), headers)),
        resolution=_first(record, ("Resolution",), headers),
        priority=priority_of(_first(record, ("Priority",), headers)),
        labels=labels_of(
            _all(record, "Labels", headers) + _all(record, "Components", headers) + _all(record, "Component", headers)
        ),
        created=parse_when(_first(record, ("Created",), headers)),
        resolved=parse_when(_first(record, ("Resolved", "Resolution date"), headers)),
        estimate=estimate_of(_first(record, ESTIMATE_COLUMNS, headers)),
        estimate_known=bool(_present(headers, ESTIMATE_COLUMNS)),
        parent=_first(record, PARENT_COLUMNS, headers),
        epic=_first(record, EPIC_COLUMNS, headers),
        sprints=[SprintRef(name=n.strip()) for n in _all(record, "Sprint", headers)],
        assignee=Person(name=assignee_name, ref=_first(record, ("Assignee Id",), headers))
        if assignee_name
        else Person(),
        comments=comments,
        rank=_first(record, RANK_COLUMNS, headers),
        links=links,
        people=people,
    )


# --- Jira JSON (REST search) ---------------------------------------------------------------

DEFAULT_FIELD_NAMES = {
    "customfield_10016": "Story point estimate",
    "customfield_10026": "Story Points",
    "customfield_10002": "Story Points",
    "customfield_10014": "Epic Link",
    "customfield_10019": "Rank",
    "customfield_10020": "Sprint",
}


def adf_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format body (REST v3); v2 bodies are strings."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "".join(adf_text(n) for n in node)
    if not isinstance(node, dict):
        return str(node)
    kind = node.get("type")
    if kind == "text":
        return node.get("text", "")
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        return (node.get("attrs") or {}).get("text", "")
    inner = adf_text(node.get("content", []))
    if kind in ("paragraph", "heading", "codeBlock", "blockquote"):
        return inner + "\n\n"
    if kind == "listItem":
        return "- " + inner.strip() + "\n"
    return inner


def _jira_person(value: Any) -> Person:
    if not isinstance(value, dict):
        return Person()
    return Person(
        name=_text(value.get("displayName")),
        email=_text(value.get("emailAddress")).lower(),
        login=_text(value.get("name") or value.get("key")),
        ref=_text(value.get("accountId")),
    )


def jira_json_issue(record: dict[str, Any], names: dict[str, str]) -> Issue:
    fields = record.get("fields") or {}
    named = {names.get(k, DEFAULT_FIELD_NAMES.get(k, k)): v for k, v in fields.items()}
    issuetype = fields.get("issuetype") or {}
    status = fields.get("status") or {}
    category = (status.get("statusCategory") or {}) if isinstance(status, dict) else {}
    parent = fields.get("parent") or {}
    parent_type = ((parent.get("fields") or {}).get("issuetype") or {}) if isinstance(parent, dict) else {}
    epic = _text(named.get("Epic Link"))
    parent_key = _text(parent.get("key")) if isinstance(parent, dict) else ""
    if parent_key and _key(parent_type.get("name", "")) == "epic":
        epic, parent_key = epic or parent_key, ""
    sprints = []
    for value in _list(named.get("Sprint")):
        if isinstance(value, dict):
            sprints.append(
                SprintRef(
                    name=_text(value.get("name")),
                    state=_text(value.get("state")).lower(),
                    start=parse_when(value.get("startDate")),
                    end=parse_when(value.get("endDate")),
                    closed=parse_when(value.get("completeDate")),
                )
            )
        elif isinstance(value, str):
            match = re.search(r"name=([^,\]]+)", value)  # Jira Server's toString() of a sprint
            state = re.search(r"state=([^,\]]+)", value)
            sprints.append(
                SprintRef(
                    name=(match.group(1) if match else value).strip(), state=(state.group(1).lower() if state else "")
                )
            )
    comments = []
    for comment in (
        ((fields.get("comment") or {}).get("comments") or []) if isinstance(fields.get("comment"), dict) else []
    ):
        comments.append(
            (
                parse_when(comment.get("created")),
                _jira_person(comment.get("author")),
                adf_text(comment.get("body")).strip(),
            )
        )
    links = []
    for link in fields.get("issuelinks") or []:
        kind = link.get("type") or {}
        if link.get("outwardIssue"):
            links.append(f"{kind.get('outward', 'relates to')}: {link['outwardIssue'].get('key', '')}")
        if link.get("inwardIssue"):
            links.append(f"{kind.get('inward', 'relates to')}: {link['inwardIssue'].get('key', '')}")
    estimate = named.get("Story Points")
    if estimate in (None, ""):
        estimate = named.get("Story point estimate")
    return Issue(
        external_id=_text(record.get("key")),
        alt_id=_text(record.get("id")),
        title=_text(fields.get("summary")),
        description=adf_text(fields.get("description")).strip(),
        type_name=_text(issuetype.get("name")),
        subtask=bool(issuetype.get("subtask")) or _key(issuetype.get("name", "")) in SUBTASK_TYPES,
        status=_text(status.get("name")) if isinstance(status, dict) else _text(status),
        category=status_category(category.get("key") or category.get("name")),
        resolution=_text((fields.get("resolution") or {}).get("name"))
        if isinstance(fields.get("resolution"), dict)
        else "",
        priority=priority_of(fields.get("priority")),
        labels=labels_of([*(fields.get("labels") or []), *(fields.get("components") or [])]),
        created=parse_when(fields.get("created")),
        updated=parse_when(fields.get("updated")),
        resolved=parse_when(fields.get("resolutiondate")),
        estimate=estimate_of(estimate),
        estimate_known="Story Points" in named or "Story point estimate" in named,
        parent=parent_key,
        epic=epic,
        sprints=sprints,
        assignee=_jira_person(fields.get("assignee")),
        comments=comments,
        rank=_text(named.get("Rank")),
        links=links,
    )


def jira_json_records(documents: list[Any]) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    number = 0
    pages = []
    for document in documents:
        if isinstance(document, list) and document and all(isinstance(d, dict) and "issues" in d for d in document):
            pages.extend(document)  # search pages gathered into one array (jq -s)
        else:
            pages.append(document)
    for document in pages:
        issues = document.get("issues") if isinstance(document, dict) else document
        names = document.get("names") or {} if isinstance(document, dict) else {}
        for issue in issues if isinstance(issues, list) else []:
            number += 1
            if not isinstance(issue, dict) or "fields" not in issue:
                yield number, None, "Each issue must be an object with fields"
                continue
            yield number, {"_issue": issue, "_names": names}, ""


# --- GitHub issues JSON --------------------------------------------------------------------


def _is_pull_request(record: dict[str, Any]) -> bool:
    """GitHub lists pull requests among issues with a `pull_request` object; lists from 2012
    carry `"pull_request": {"html_url": null, …}` on every issue, which is not one."""
    value = record.get("pull_request")
    if isinstance(value, dict):
        return any(v for v in value.values())
    return bool(value)


def github_issue(record: dict[str, Any]) -> Issue:
    if _is_pull_request(record):
        raise RowSkip("a pull request, not an issue")
    labels = labels_of([label for label in record.get("labels") or []])
    type_name = (
        _text((record.get("type") or {}).get("name"))
        if isinstance(record.get("type"), dict)
        else _text(record.get("type"))
    )
    state = _text(record.get("state")).lower()
    reason = _text(record.get("state_reason")).lower()
    milestone = record.get("milestone") if isinstance(record.get("milestone"), dict) else None
    sprints = []
    if milestone and milestone.get("title"):
        closed = _text(milestone.get("state")).lower() == "closed"
        sprints.append(
            SprintRef(
                name=_text(milestone["title"]),
                state="closed" if closed else "future",
                start=parse_when(milestone.get("created_at")),
                end=parse_when(milestone.get("due_on")) or parse_when(milestone.get("closed_at")),
                closed=parse_when(milestone.get("closed_at")),
            )
        )
    assignee = record.get("assignee") or next(iter(record.get("assignees") or []), None)
    priority = None
    for label in labels:
        priority = priority_of(re.sub(r"^(priority|prio)[:/ _-]*", "", label.lower())) or priority
    return Issue(
        external_id=_text(record.get("number")),
        title=_text(record.get("title")),
        description=_text(record.get("body")),
        type_name=type_name,
        status="closed" if state == "closed" else "open",
        category="done" if state == "closed" else "todo",
        resolution="not_planned" if reason == "not_planned" else "",
        priority=priority,
        labels=labels,
        created=parse_when(record.get("created_at")),
        updated=parse_when(record.get("updated_at")),
        resolved=parse_when(record.get("closed_at")) if state == "closed" else None,
        sprints=sprints,
        assignee=Person(login=_text(assignee.get("login"))) if isinstance(assignee, dict) else Person(),
    )


# --- Linear CSV ----------------------------------------------------------------------------


def linear_issue(record: dict[str, Any]) -> Issue:
    get = {normalize_header(k): v for k, v in record.items()}
    status = _text(get.get("status"))
    cycle = _text(get.get("cycle_name")) or (f"Cycle {get['cycle_number']}" if get.get("cycle_number") else "")
    sprints = []
    if cycle:
        end = parse_when(get.get("cycle_end"))
        sprints.append(SprintRef(name=cycle, start=parse_when(get.get("cycle_start")), end=end))
    completed = parse_when(get.get("completed")) or parse_when(get.get("canceled"))
    category = "done" if completed else "in_progress" if get.get("started") else "todo"
    return Issue(
        external_id=_text(get.get("id")),
        title=_text(get.get("title")),
        description=_text(get.get("description")),
        status=status,
        category=category,
        resolution="canceled" if get.get("canceled") else "",
        priority=priority_of(get.get("priority")),
        labels=labels_of(_text(get.get("labels")), split=True),
        created=parse_when(get.get("created")),
        updated=parse_when(get.get("updated")),
        resolved=completed,
        estimate=estimate_of(get.get("estimate")),
        estimate_known="estimate" in get,
        parent=_text(get.get("parent_issue")),
        sprints=sprints,
        assignee=Person(name=_text(get.get("assignee"))) if get.get("assignee") else Person(),
    )


# --- Trello board JSON ---------------------------------------------------------------------


def trello_records(documents: list[Any]) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """Cards of a board with what the card names by id: its list, members, labels, comments."""
    number = 0
    for board in documents:
        if not isinstance(board, dict):
            continue
        lists = {x.get("id"): x for x in board.get("lists") or [] if isinstance(x, dict)}
        members = {m.get("id"): m for m in board.get("members") or [] if isinstance(m, dict)}
        labels = {x.get("id"): x for x in board.get("labels") or [] if isinstance(x, dict)}
        checklists = {c.get("id"): c for c in board.get("checklists") or [] if isinstance(c, dict)}
        comments: dict[str, list[dict[str, Any]]] = {}
        for action in board.get("actions") or []:
            if isinstance(action, dict) and action.get("type") == "commentCard":
                card_id = ((action.get("data") or {}).get("card") or {}).get("id")
                comments.setdefault(card_id, []).append(action)
        for card in board.get("cards") or []:
            number += 1
            if not isinstance(card, dict):
                yield number, None, "Each card must be an object"
                continue
            yield (
                number,
                {
                    "_card": card,
                    "_list": lists.get(card.get("idList")) or {},
                    "_members": [members[m] for m in card.get("idMembers") or [] if m in members],
                    "_labels": [labels[x] for x in card.get("idLabels") or [] if x in labels],
                    "_checklists": [checklists[c] for c in card.get("idChecklists") or [] if c in checklists],
                    "_comments": comments.get(card.get("id"), []),
                },
                "",
            )


def _trello_created(card_id: str) -> datetime | None:
    """A Trello id starts with the card's creation time in seconds (hex)."""
    if re.fullmatch(r"[0-9a-f]{24}", card_id or ""):
        return parse_when(int(card_id[:8], 16))
    return None


def trello_issue(record: dict[str, Any]) -> Issue:
    card = record["_card"]
    column = record["_list"]
    if card.get("closed") or column.get("closed"):
        raise RowSkip("archived in Trello")
    list_name = _text(column.get("name"))
    description = _text(card.get("desc"))
    for checklist in record["_checklists"]:
        items = [
            f"- [{'x' if i.get('state') == 'complete' else ' '}] {i.get('name', '')}"
            for i in sorted(checklist.get("checkItems") or [], key=lambda i: i.get("pos") or 0)
        ]
        description += f"\n\n**{checklist.get('name', 'Checklist')}**\n" + "\n".join(items)
    members = record["_members"]
    comments = [
        (
            parse_when(a.get("date")),
            Person(
                name=_text((a.get("memberCreator") or {}).get("fullName")),
                login=_text((a.get("memberCreator") or {}).get("username")),
            ),
            _text((a.get("data") or {}).get("text")),
        )
        for a in reversed(record["_comments"])
    ]
    labels = [x.get("name") or x.get("color") or "" for x in (record["_labels"] or card.get("labels") or [])]
    done = bool(card.get("dueComplete")) or STATUS_NAMES.get(_key(list_name)) == ItemStatus.DONE
    if card.get("dueComplete"):
        list_name = "Done"  # marked complete on the card, whichever list it is in
    return Issue(
        external_id=_text(card.get("shortLink") or card.get("id")),
        title=_text(card.get("name")),
        description=description.strip(),
        status=list_name,
        category="done" if done else "",
        labels=labels_of(labels),
        created=_trello_created(_text(card.get("id"))),
        updated=parse_when(card.get("dateLastActivity")),
        resolved=parse_when(card.get("dateLastActivity")) if done else None,
        assignee=Person(name=_text(members[0].get("fullName")), login=_text(members[0].get("username")))
        if members
        else Person(),
        comments=comments,
        rank=f"{float(card.get('pos') or 0):020.4f}",
    )


# --- Generic CSV / JSON (columns found by name) --------------------------------------------

GENERIC_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("issue_key", "issuekey", "key", "number", "external_id", "id"),
    "title": ("summary", "title", "name"),
    "description": ("description", "body", "details"),
    "estimate": ("story_points", "storypoints", "story_point", "storypoint", "estimate", "points"),
    "status": ("status", "state"),
    "category": ("status_category",),
    "kind": ("issue_type", "issuetype", "type", "kind"),
    "priority": ("priority",),
    "sprint": ("sprint", "milestone", "iteration", "cycle"),
    "created": ("created", "created_at", "date_created"),
    "updated": ("updated", "updated_at"),
    "resolved": ("resolved", "closed_at", "done_at", "completed", "resolution_date"),
    "labels": ("labels", "tags"),
    "assignee": ("assignee", "owner", "assigned_to"),
    "parent": ("parent", "parent_key", "parent_id"),
    "epic": ("epic", "epic_link", "epic_key"),
}


def _named(value: Any) -> str:
    """A value that may be a name or an object with one ({"name": "Bug"})."""
    if isinstance(value, dict):
        value = value.get("name") or value.get("title") or ""
    return value.strip() if isinstance(value, str) else "" if value is None or isinstance(value, list) else str(value)


def _priority_value(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return value
    return priority_of(_named(value) if not isinstance(value, str) else value)


def generic_issue(record: dict[str, Any]) -> Issue:
    keys = {normalize_header(k): k for k in record}

    def get(name: str) -> Any:
        for alias in GENERIC_ALIASES[name]:
            if alias in keys:
                value = record[keys[alias]]
                return value.strip() if isinstance(value, str) else value
        return None

    if _is_pull_request(record):
        raise RowSkip("a pull request, not an issue")
    sprint = _text(get("sprint"))
    assignee = get("assignee")
    status = _named(get("status"))
    return Issue(
        external_id=_text(get("external_id")),
        title=_text(get("title")),
        description=_text(get("description")),
        type_name=_named(get("kind")),
        subtask=_key(_named(get("kind"))) in SUBTASK_TYPES,
        status=status,
        category=status_category(_named(get("category"))),
        priority=_priority_value(get("priority")),
        labels=labels_of(get("labels"), split=isinstance(get("labels"), str)),
        created=parse_when(get("created")),
        updated=parse_when(get("updated")),
        resolved=parse_when(get("resolved")),
        estimate=estimate_of(get("estimate")),
        estimate_known=any(alias in keys for alias in GENERIC_ALIASES["estimate"]),
        parent=_text(get("parent")),
        epic=_text(get("epic")),
        sprints=[SprintRef(name=sprint)] if sprint else [],
        assignee=Person(name=_text(assignee.get("name") if isinstance(assignee, dict) else assignee))
        if assignee
        else Person(),
    )


def read_issue(fmt: str, record: dict[str, Any]) -> Issue:
    """The issue a record describes (RowInvalid / RowSkip for one that cannot or need not be)."""
    if fmt == ImportFormat.JIRA_CSV:
        issue = jira_csv_issue(record)
    elif fmt == ImportFormat.JIRA_JSON:
        issue = jira_json_issue(record["_issue"], record["_names"])
    elif fmt == ImportFormat.GITHUB_JSON:
        issue = github_issue(record)
    elif fmt == ImportFormat.LINEAR_CSV:
        issue = linear_issue(record)
    elif fmt == ImportFormat.TRELLO_JSON:
        issue = trello_issue(record)
    else:
        issue = generic_issue(record)
    if not issue.external_id:
        raise RowInvalid("The issue key (or number) is empty")
    if not issue.title:
        raise RowInvalid("The summary (title) is empty")
    return issue


# --- Into Loopwise's fields ----------------------------------------------------------------


def kind_of(issue: Issue) -> str:
    if issue.kind:
        return issue.kind
    known = KINDS.get(_key(issue.type_name)) if issue.type_name else None
    if known:
        return known
    lowered = {label.lower() for label in issue.labels}
    if lowered & {"bug", "type: bug", "kind/bug", "type:bug", "defect"}:
        return ItemKind.BUG
    if "epic" in lowered:
        return ItemKind.EPIC
    return ItemKind.STORY


def description_of(issue: Issue) -> str:
    """The description, with the issue's links to other issues kept as text below it."""
    text = issue.description[:100000]
    if issue.links:
        text += ("\n\n" if text else "") + "Links (imported):\n" + "\n".join(f"- {link}" for link in issue.links)
    return text


def status_of(issue: Issue, statuses: dict[str, str]) -> str:
    """The status the user chose for the issue's status name (or for its category, where
    the preview listed the file's rarer names by category), else the proposed one. A choice
    that only confirms the proposal leaves the resolution rule in force (Done + Won't Do is
    won't do), since the preview sends every status back, changed or not."""
    mapped = statuses.get(status_key(issue.status, issue.category)) or statuses.get(status_key("", issue.category))
    proposed = default_status(issue.status, issue.category)
    if mapped and mapped != proposed:
        return mapped
    return default_status(issue.status, issue.category, issue.resolution)
