"""Writing an import's batch: cleaned rows → the write cores of feedback, items, sprints and
comments.

The import is a door like any other: it decides which rows update existing objects (by the
job's source and the row's external id) and hands creates and updates to the core, which
validates, writes History and the change feed. A row the core refuses is reported with its
line and the rest of the batch is written. Backlog imports write in three steps: the items
(batch by batch, with their sprint, assignee, labels and comments), then the references
between them (epics and parents, which may point forward in the file) and the rank order,
then the state of the sprints they came with (`finish_backlog`).
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from tracker.models import (
    FINISHED_STATUSES,
    BacklogItem,
    Comment,
    Feedback,
    ImportJob,
    ItemKind,
    ItemStatus,
    Membership,
    Sprint,
    SprintState,
)
from tracker.services.backlog import Update, items_arrange, items_write, lock_project
from tracker.services.comments import MAX_COMMENT, comments_save
from tracker.services.customers import Identity
from tracker.services.errors import BatchInvalid
from tracker.services.feedback import FeedbackUpdate, feedback_write
from tracker.services.import_backlog import Issue, Person, description_of, kind_of, status_of
from tracker.services.sprints import sprint_active, sprints_ensure, sprints_settle

Rows = list[tuple[int, Any]]
Result = tuple[int, int, int, list[dict[str, Any]]]

FEEDBACK_FIELDS = ("body", "title", "nps", "csat", "ces", "channel", "tags")
REFERENCE_BATCH = 1000


def _latest_per_id(
    rows: Rows, key: Callable[[Any], str]
) -> tuple[dict[str, tuple[int, Any]], list[tuple[int, Any]], int]:
    """Rows by external id (the later row of one id wins) and the rows without one."""
    by_ext: dict[str, tuple[int, Any]] = {}
    plain = []
    repeated = 0
    for line, row in rows:
        ext = key(row)
        if ext:
            if ext in by_ext:
                repeated += 1
            by_ext[ext] = (line, row)
        else:
            plain.append((line, row))
    return by_ext, plain, repeated


def _write_reporting(
    write: Callable[[set[int]], list[Any]], lines: list[int]
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Write; when the core refuses entries, report them by line and write the others."""
    excluded: set[int] = set()
    errors: list[dict[str, Any]] = []
    while True:
        try:
            return write(excluded), errors
        except BatchInvalid as exc:
            for index, fields in exc.errors.items():
                excluded.add(index)
                reason = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
                errors.append({"line": lines[index], "reason": reason})


# --- Feedback ------------------------------------------------------------------------------


def _identity(job: ImportJob, row: dict[str, Any]) -> Identity | None:
    identity = Identity(
        email=row["email"],
        name=row["customer_name"],
        source=job.source if row["customer_external_id"] else "",
        external_id=row["customer_external_id"],
    )
    return None if identity.empty else identity.cleaned()


def write_feedback(job: ImportJob, rows: Rows) -> Result:
    if not rows:
        return 0, 0, 0, []
    by_ext, plain, repeated = _latest_per_id(rows, lambda row: row["external_id"])
    existing = {
        f.external_id: f
        # The exclude repeats the partial unique index's condition, so PostgreSQL can use the
        # index for a batch of thousands of ids (it cannot prove it from a long IN list).
        # No ORDER BY: while the statistics underestimated the workspace, the default one
        # (received_at) made PostgreSQL read the whole workspace in that order through
        # feedback_ws_received and filter it (317 ms per batch at 300,000 rows; 2.8 ms
        # after ANALYZE, see imports._refresh_lookup_statistics).
        for f in Feedback.objects.filter(workspace_id=job.workspace_id, source=job.source, external_id__in=list(by_ext))
        .exclude(external_id="")
        .order_by()
    }
    ordered = [*by_ext.values(), *plain]
    entries: list[tuple[str, int, dict[str, Any]]] = []
    for line, row in ordered:
        fields = {k: row[k] for k in FEEDBACK_FIELDS}
        if row["received_at"]:
            fields["received_at"] = row["received_at"]
        identity = _identity(job, row)
        if identity is not None:
            fields["identity"] = identity  # the core finds or creates the customer
        current = existing.get(row["external_id"]) if row["external_id"] else None
        if current is None:
            if row["external_id"]:
                fields.update(source=job.source, external_id=row["external_id"])
            entries.append(("create", line, fields))
        else:
            entries.append(("update", line, fields))

    def write(excluded: set[int]) -> list[Any]:
        creates = [(i, f) for i, (kind, _, f) in enumerate(entries) if kind == "create" and i not in excluded]
        updates = [
            FeedbackUpdate(i, existing[ordered[i][1]["external_id"]].pk, f)
            for i, (kind, _, f) in enumerate(entries)
            if kind == "update" and i not in excluded
        ]
        return feedback_write(workspace=job.workspace, actor=job.created_by, creates=creates, updates=updates)

    written, errors = _write_reporting(write, [line for _, line, _ in entries])
    created = sum(1 for _, _, outcome in written if outcome == "created")
    updated = sum(1 for _, _, outcome in written if outcome == "updated")
    unchanged = sum(1 for _, _, outcome in written if outcome == "unchanged")
    return created, updated, repeated + unchanged, errors


# --- Backlog items -------------------------------------------------------------------------


@dataclass
class BacklogContext:
    """What every batch of a backlog import resolves against, read once per run."""

    job: ImportJob
    statuses: dict[str, str]
    people: dict[str, str]  # account id → name, from the whole file
    sprints: dict[str, Sprint] = field(default_factory=dict)
    by_email: dict[str, Any] = field(default_factory=dict)
    by_name: dict[str, Any] = field(default_factory=dict)
    # Jira's numeric issue ids → keys (parents are often named by id), and the source's rank
    # of every issue, both from the tier pass that reads the whole file (imports._tiered).
    alt: dict[str, str] = field(default_factory=dict)
    ranks: list[tuple[str, str]] = field(default_factory=list)
    # References whose target was not written yet when their item was: applied at the end.
    deferred: list[tuple[int, str, str, str]] = field(default_factory=list)
    # The file has no rank: only the items this run creates are put in file order.
    arrange_created_only: bool = False
    created: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, job: ImportJob) -> "BacklogContext":
        scan = job.mapping.get("scan") or {}
        ctx = cls(job=job, statuses=job.mapping.get("statuses") or {}, people=scan.get("people", {}))
        names = list((scan.get("sprints") or {}).keys())
        if names:
            ctx.sprints = {s.name: s for s in Sprint.objects.filter(project_id=job.project_id, name__in=names)}
        users = get_user_model().objects.filter(
            pk__in=Membership.objects.filter(workspace_id=job.workspace_id).values("user_id")
        )
        for user in users:
            if user.email:
                ctx.by_email.setdefault(user.email.lower(), user)
            for name in (user.get_full_name(), user.username):
                if name:
                    ctx.by_name.setdefault(name.strip().lower(), user)
        return ctx

    def named(self, person: Person) -> str:
        return person.name or self.people.get(person.ref, "") or person.login or person.email or person.ref

    def member(self, person: Person) -> Any:
        """The workspace member a file's person is: by e-mail, else by name or login."""
        if not person:
            return None
        if person.email and person.email.lower() in self.by_email:
            return self.by_email[person.email.lower()]
        for name in (person.name, self.people.get(person.ref, ""), person.login, person.ref):
            if name and name.strip().lower() in self.by_name:
                return self.by_name[name.strip().lower()]
        return None

    def mentions(self, text: str) -> str:
        """Jira Cloud writes mentions as [~accountid:…]: name the person instead."""
        return re.sub(r"\[~accountid:([^\]]+)\]", lambda m: "@" + (self.people.get(m.group(1)) or "someone"), text)


def _item_fields(ctx: BacklogContext, issue: Issue, current: BacklogItem | None) -> dict[str, Any]:
    status = status_of(issue, ctx.statuses)
    fields: dict[str, Any] = {
        "title": issue.title[:255],
        "description": ctx.mentions(description_of(issue)),
        "kind": kind_of(issue),
        "status": status,
        "labels": issue.labels,
    }
    if issue.priority is not None:
        fields["priority"] = issue.priority
    if issue.estimate is not None or (current is not None and issue.estimate_known):
        fields["estimate"] = issue.estimate  # a source without estimates keeps Loopwise's
    member = ctx.member(issue.assignee)
    fields["assignee"] = member
    fields["imported_assignee"] = "" if member is not None or not issue.assignee else ctx.named(issue.assignee)
    sprint = ctx.sprints.get(issue.sprints[-1].name[:120]) if issue.sprints else None
    if sprint is not None and (
        sprint.state != SprintState.CLOSED or (current is not None and current.sprint_id == sprint.pk)
    ):
        fields["sprint"] = sprint
    elif current is not None and issue.sprints and sprint is None:
        pass  # a sprint Loopwise does not have (deleted since): leave the item where it is
    if status == ItemStatus.DONE and issue.resolved:
        fields["done_at"] = issue.resolved
    if current is None and issue.created:
        fields["created_at"] = issue.created
    if issue.alt_id:
        fields["external_alt_id"] = issue.alt_id[:64]
    return fields


def write_items(job: ImportJob, rows: Rows, ctx: BacklogContext | None = None) -> Result:
    """Upsert items by (project, source, external id); new ones go to the bottom of the
    backlog in file order (finish_backlog applies the source's rank order). Items deleted in
    Loopwise stay deleted."""
    if not rows:
        return 0, 0, 0, []
    ctx = ctx or BacklogContext.load(job)
    project = lock_project(job.project)
    by_ext, _plain, repeated = _latest_per_id(rows, lambda issue: issue.external_id)
    existing = {
        i.external_id: i
        for i in BacklogItem.objects.filter(project=project, source=job.source, external_id__in=list(by_ext))
        .exclude(external_id="")
        .order_by()
    }
    skipped = repeated
    targets = _targets(ctx, project, [issue for _, issue in by_ext.values()])
    entries: list[tuple[str, int, dict[str, Any], Any, Issue]] = []
    for external_id, (line, issue) in by_ext.items():
        item = existing.get(external_id)
        if item is not None and item.deleted_at is not None:
            skipped += 1  # deleted in Loopwise: an import does not bring it back
            continue
        fields = _item_fields(ctx, issue, item)
        fields.update(_references(ctx, line, issue, targets))
        if item is None:
            fields.update(source=job.source, external_id=external_id)
            entries.append(("create", line, fields, None, issue))
        else:
            entries.append(("update", line, fields, item.pk, issue))

    def write(excluded: set[int]) -> list[Any]:
        creates = [(i, e[2]) for i, e in enumerate(entries) if e[0] == "create" and i not in excluded]
        updates = [Update(i, e[3], e[2]) for i, e in enumerate(entries) if e[0] == "update" and i not in excluded]
        return items_write(project=project, actor=job.created_by, creates=creates, updates=updates)

    written, errors = _write_reporting(write, [e[1] for e in entries])
    _write_comments(ctx, project, [(w.item, entries[w.index][4]) for w in written])
    ctx.created.update(w.item.external_id for w in written if w.outcome == "created")
    created = sum(1 for w in written if w.outcome == "created")
    updated = sum(1 for w in written if w.outcome == "updated")
    skipped += sum(1 for w in written if w.outcome == "unchanged")
    return created, updated, skipped, errors


def _targets(ctx: BacklogContext, project: Any, issues: list[Issue]) -> dict[str, BacklogItem]:
    """The items a batch's epics and parents name that exist already (one query)."""
    refs = {ref for issue in issues for ref in (issue.parent, issue.epic) if ref}
    if not refs:
        return {}
    return _items_named(project, ctx.job.source, {ctx.alt.get(ref, ref) for ref in refs}, refs - ctx.alt.keys())


def _items_named(project: Any, source: str, keys: set[str], alt_ids: set[str]) -> dict[str, BacklogItem]:
    """Live items of the import's source by external id, and (as "alt:<id>") by the source's
    other id, for references to issues imported from an earlier file (one query)."""
    named = Q(external_id__in=keys)
    if alt_ids:
        named |= Q(external_alt_id__in=alt_ids)
    rows = BacklogItem.objects.filter(named, project=project, source=source, deleted_at__isnull=True).only(
        "id", "project_id", "number", "kind", "deleted_at", "parent_id", "epic_id", "external_id", "external_alt_id"
    )
    out: dict[str, BacklogItem] = {}
    for item in rows.order_by():
        out[item.external_id] = item
        if item.external_alt_id:
            out.setdefault(f"alt:{item.external_alt_id}", item)
    return out


def _references(ctx: BacklogContext, line: int, issue: Issue, targets: dict[str, BacklogItem]) -> dict[str, Any]:
    """`epic` / `parent` for an issue whose targets exist; the others wait for the end."""
    fields: dict[str, Any] = {}
    waiting = False
    kind = kind_of(issue)
    for ref in (issue.epic, issue.parent):
        if not ref:
            continue
        target = targets.get(ctx.alt.get(ref, ref)) or targets.get(f"alt:{ref}")
        if target is None:
            waiting = True
        elif target.external_id == issue.external_id:
            continue
        elif target.kind == ItemKind.EPIC and kind != ItemKind.EPIC:
            fields.setdefault("epic", target)
        elif target.kind != ItemKind.EPIC:
            fields.setdefault("parent", target)
    if waiting:
        ctx.deferred.append((line, issue.external_id, issue.parent, issue.epic))
    return fields


def _write_comments(ctx: BacklogContext, project: Any, pairs: list[tuple[BacklogItem, Issue]]) -> None:
    """The issues' comments on their items; one already there (same time and text) is not
    added again, so a re-import does not double them."""
    pairs = [(item, issue) for item, issue in pairs if issue.comments]
    if not pairs:
        return
    seen: set[tuple[str, Any, str]] = set()
    for item_id, created, body in Comment.objects.filter(item_id__in=[i.pk for i, _ in pairs]).values_list(
        "item_id", "created_at", "body"
    ):
        seen.add((str(item_id), created.replace(microsecond=0) if created else None, body))
        seen.add((str(item_id), None, body))  # an undated comment is known by its text
    now = timezone.now()
    new = []
    for item, issue in pairs:
        for at, author, body in issue.comments:
            text = ctx.mentions(body)[:MAX_COMMENT].strip()
            if not text:
                continue
            when = at.replace(microsecond=0) if at else None
            if (str(item.pk), when, text) in seen:
                continue
            seen.add((str(item.pk), when, text))
            seen.add((str(item.pk), None, text))
            when = when or issue.created or now
            member = ctx.member(author) if author else None
            comment = Comment(
                item_id=item.pk,
                author=member,
                author_name="" if member is not None else ctx.named(author)[:200],
                body=text,
                created_at=when,
                updated_at=now,
            )
            new.append((comment, project.pk))
    if new:
        comments_save(workspace_id=project.workspace_id, created=new, at=now)


# --- After the last batch: references, rank, sprints ---------------------------------------


def _chunks(values: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def apply_references(
    job: ImportJob, ctx: BacklogContext, refs: list[tuple[int, str, str, str]]
) -> list[dict[str, Any]]:
    """Epics and parents that could not be set when their item was written (the target came
    later), by key or Jira's numeric id; then the source's rank order among the imported
    items. Returns problems to report by line."""
    problems: list[dict[str, Any]] = []
    project = job.project
    for chunk in _chunks(refs, REFERENCE_BATCH):
        wanted = {ext for _, ext, _, _ in chunk}
        refs = {ref for _, _, parent, epic in chunk for ref in (parent, epic) if ref}
        wanted.update(ctx.alt.get(ref, ref) for ref in refs)
        known = {
            key: (item.external_id, item.pk, item.kind, item.epic_id, item.parent_id)
            for key, item in _items_named(project, job.source, wanted, refs - ctx.alt.keys()).items()
        }
        planned: list[tuple[int, Any, dict[str, Any]]] = []
        for line, ext, parent_ref, epic_ref in chunk:
            row = known.get(ext)
            if row is None:
                continue
            wanted_refs: dict[str, Any] = {}
            for ref in (epic_ref, parent_ref):
                if not ref:
                    continue
                target = known.get(ctx.alt.get(ref, ref)) or known.get(f"alt:{ref}")
                if target is None:
                    problems.append({"line": line, "reason": f"{ext}: {ref} is neither in the file nor in Loopwise"})
                elif target[1] == row[1]:
                    continue
                elif target[2] == ItemKind.EPIC and row[2] != ItemKind.EPIC:
                    wanted_refs.setdefault("epic", target[1])
                elif target[2] != ItemKind.EPIC:
                    wanted_refs.setdefault("parent", target[1])
            if wanted_refs.get("epic") in (None, row[3]):
                wanted_refs.pop("epic", None)
            if wanted_refs.get("parent") in (None, row[4]):
                wanted_refs.pop("parent", None)
            if wanted_refs:
                planned.append((line, row[1], wanted_refs))
        if not planned:
            continue
        objects = BacklogItem.objects.in_bulk({pk for _, _, refs_ in planned for pk in refs_.values()})
        updates = [
            Update(index, pk, {name: objects[target] for name, target in refs_.items() if target in objects})
            for index, (_, pk, refs_) in enumerate(planned)
        ]
        lines = [line for line, _, _ in planned]

        def write(excluded: set[int], updates: list[Update] = updates) -> list[Any]:
            return items_write(
                project=project, actor=job.created_by, updates=[u for u in updates if u.index not in excluded]
            )

        problems.extend(_write_reporting(write, lines)[1])
    if ctx.ranks:
        last = {ext: rank for rank, ext in ctx.ranks}  # a key repeated in the file: its last row counts
        if ctx.arrange_created_only:
            last = {ext: rank for ext, rank in last.items() if ext in ctx.created}
        order = [ext for ext, _ in sorted(last.items(), key=lambda kv: (kv[1], kv[0]))]
        ids = dict(
            BacklogItem.objects.filter(
                project=project, source=job.source, external_id__in=order, deleted_at__isnull=True
            )
            .order_by()
            .values_list("external_id", "pk")
        )
        items_arrange(project=project, actor=job.created_by, ordered=[ids[ext] for ext in order if ext in ids])
    return problems


def sprint_plan(summary: dict[str, Any], default_days: int, today: date) -> tuple[date, date]:
    """A sprint's dates: as the source gave them, else around its items (it ends at its last
    resolution and lasts the project's sprint length, not starting before its first item)."""
    start = _day(summary.get("start"))
    end = _day(summary.get("end"))
    if start and end:
        return start, max(end, start)
    length = timedelta(days=max(1, default_days) - 1)
    if start:
        return start, start + length
    if end:
        return end - length, end
    first = _day(summary.get("min_created")) or today
    last = _day(summary.get("max_resolved"))
    if last and last >= first:
        return max(first, last - length), last
    return first, first + length


def _day(value: Any) -> date | None:
    if not value:
        return None
    return datetime.fromisoformat(value).date() if isinstance(value, str) else value


def prepare_sprints(job: ImportJob) -> None:
    """Create the sprints the file names (planned until finish_backlog settles them)."""
    sprints = (job.mapping.get("scan") or {}).get("sprints") or {}
    if not sprints:
        return
    project = job.project
    today = timezone.localdate()
    wanted = []
    for name, summary in sprints.items():
        start, end = sprint_plan(summary, project.default_sprint_days, today)
        wanted.append((name, start, end))
    sprints_ensure(project=project, wanted=wanted)


def finish_backlog(job: ImportJob, ctx: BacklogContext, refs: list[tuple[int, str, str, str]]) -> list[dict[str, Any]]:
    problems = apply_references(job, ctx, refs)
    sprints = (job.mapping.get("scan") or {}).get("sprints") or {}
    if not sprints:
        return problems
    project = job.project
    by_name = {s.name: s for s in Sprint.objects.filter(project=project, name__in=list(sprints))}
    unfinished = set(
        BacklogItem.objects.filter(sprint__in=list(by_name.values()), deleted_at__isnull=True)
        .exclude(status__in=FINISHED_STATUSES)
        .values_list("sprint_id", flat=True)
        .distinct()
    )
    closed = []
    open_ones = []
    for name, summary in sprints.items():
        sprint = by_name.get(name)
        if sprint is None or sprint.state != SprintState.PLANNED:
            continue
        state = summary.get("state", "")
        if state == "closed" or (not state and (summary.get("carried") or sprint.pk not in unfinished)):
            started = summary.get("start") or sprint.start_date.isoformat()
            ended = summary.get("closed") or summary.get("end") or sprint.end_date.isoformat()
            closed.append((sprint, _moment(started), _moment(ended, end_of_day=True)))
        elif state == "active" or not state:
            open_ones.append((summary.get("order", 0), sprint, state))
    active = None
    if sprint_active(project) is None:
        explicit = [s for _, s, state in open_ones if state == "active"]
        active = explicit[0] if explicit else max(open_ones, key=lambda o: o[0])[1] if open_ones else None
    sprints_settle(project=project, actor=job.created_by, closed=closed, active=active)
    return problems


def _moment(value: str, *, end_of_day: bool = False) -> datetime:
    parsed = datetime.fromisoformat(value)
    if isinstance(parsed, datetime) and len(value) > 10:
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
    return datetime.combine(parsed.date(), time(23, 59) if end_of_day else time(9, 0), tzinfo=UTC)
