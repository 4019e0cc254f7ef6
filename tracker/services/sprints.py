"""The write core of sprints: plan, start (freeze the commitment), close (carry over,
freeze the review). Every change of a sprint, and of the items it moves, goes through the
items' write core and into the change feed."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tracker.feed.record import ChangeRow, changes_record
from tracker.models import (
    BacklogItem,
    ChangeKind,
    ChangeOp,
    History,
    HistoryAction,
    ItemStatus,
    Project,
    Sprint,
    SprintState,
)
from tracker.services.backlog import items_save, lock_items, lock_project
from tracker.services.bulk import bulk_set, rows_insert
from tracker.services.dispatch import dispatch
from tracker.services.errors import ValidationError, check_version
from tracker.services.feedback import feedback_refresh_for_items
from tracker.services.history import history_entries, history_record
from tracker.services.metrics import sprint_points


def _sprint_changed(sprint: Sprint, workspace_id: Any, op: str, fields: Iterable[str] | None = None) -> None:
    changes_record(
        workspace_id=workspace_id,
        rows=[
            ChangeRow(
                ChangeKind.SPRINT,
                sprint.pk,
                op,
                sprint.project_id,
                sprint.version,
                tuple(sorted(fields)) if fields else None,
            )
        ],
    )


def _validate_sprint_fields(fields: dict[str, Any], sprint: Sprint | None = None) -> None:
    errors = {}
    start = fields.get("start_date", sprint.start_date if sprint else None)
    end = fields.get("end_date", sprint.end_date if sprint else None)
    if start and end and end < start:
        errors["end_date"] = "The sprint must end on or after its start."
    if start and end and (end - start).days > 90:
        errors["end_date"] = "A sprint lasts at most 90 days."
    capacity = fields.get("capacity")
    if capacity is not None and (not isinstance(capacity, int) or capacity < 0 or capacity > 10000):
        errors["capacity"] = "Capacity is a whole number of points from 0 to 10,000."
    if "name" in fields and not (fields["name"] or "").strip():
        errors["name"] = "A sprint needs a name."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def sprint_create(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    start_date: date | None = None,
    end_date: date | None = None,
    name: str = "",
    goal: str = "",
    capacity: int = 0,
) -> Sprint:
    """A planned sprint, numbered next in its project; dates default to the project's length."""
    project = lock_project(project)
    start_date = start_date or timezone.localdate()
    end_date = end_date or start_date + timedelta(days=project.default_sprint_days - 1)
    number = project.next_sprint_number
    name = (name or "").strip() or f"Sprint {number}"
    _validate_sprint_fields({"start_date": start_date, "end_date": end_date, "capacity": capacity, "name": name})
    Project.objects.filter(pk=project.pk).update(next_sprint_number=F("next_sprint_number") + 1)
    sprint = Sprint.objects.create(
        project=project,
        number=number,
        name=name,
        goal=goal,
        start_date=start_date,
        end_date=end_date,
        capacity=capacity,
    )
    history_record(
        workspace_id=project.workspace_id, project=project, sprint=sprint, actor=actor, action=HistoryAction.CREATED
    )
    _sprint_changed(sprint, project.workspace_id, ChangeOp.CREATE)
    return sprint


@transaction.atomic
def sprint_update(
    *, sprint: Sprint, actor: AbstractBaseUser | None, expected_version: int | None = None, **changes: Any
) -> Sprint:
    allowed = {"name", "goal", "start_date", "end_date", "capacity"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: "Unknown or read-only field." for name in unknown})
    locked = Sprint.objects.select_for_update().select_related("project").get(pk=sprint.pk)
    check_version(locked.version, expected_version)
    if locked.state == SprintState.CLOSED:
        raise ValidationError({"sprint": "A closed sprint cannot be changed."})
    _validate_sprint_fields(changes, locked)
    diff = {k: (getattr(locked, k), v) for k, v in changes.items() if getattr(locked, k) != v}
    if not diff:
        return locked
    for name, (_old, new) in diff.items():
        setattr(locked, name, new)
    locked.version += 1
    locked.save(update_fields=[*diff, "version", "updated_at"])
    history_record(
        workspace_id=locked.project.workspace_id,
        project=locked.project,
        sprint=locked,
        actor=actor,
        action=HistoryAction.CHANGED,
        changes=diff,
    )
    _sprint_changed(locked, locked.project.workspace_id, ChangeOp.UPDATE, diff)
    return locked


def _move_items(
    items: list[BacklogItem], target: Sprint | None, actor: AbstractBaseUser | None, project: Project
) -> None:
    """Put the (locked) items into `target` (None: back to the backlog) through the items'
    core: a new version, History and a change in the feed for each."""
    new = target.pk if target else None
    items_save(
        project=project,
        actor=actor,
        changed=[(item, {"sprint": (item.sprint_id, new)}) for item in items if item.sprint_id != new],
    )


def _sprint_items(sprint: Sprint, items: Iterable[BacklogItem]) -> list[BacklogItem]:
    ids = [i.pk for i in items]
    lock_project(sprint.project)
    found = [i for i in lock_items(ids).values() if i.deleted_at is None]
    if len(found) != len(set(ids)):
        raise ValidationError({"items": "Some items do not exist or were deleted."})
    if any(i.project_id != sprint.project_id for i in found):
        raise ValidationError({"items": "Only items of the sprint's own project can be planned into it."})
    return found


@transaction.atomic
def sprint_add_items(
    *, sprint: Sprint, items: Iterable[BacklogItem], actor: AbstractBaseUser | None
) -> list[BacklogItem]:
    """Plan items into a sprint (planned or active; added to an active one counts as scope change)."""
    sprint = Sprint.objects.select_for_update().select_related("project").get(pk=sprint.pk)
    if sprint.state == SprintState.CLOSED:
        raise ValidationError({"sprint": f"{sprint.name} is closed."})
    found = [i for i in _sprint_items(sprint, items) if i.sprint_id != sprint.pk]
    finished = [i for i in found if i.is_finished]
    if finished:
        raise ValidationError({"items": f"{finished[0].key} is already finished."})
    _move_items(found, sprint, actor, sprint.project)
    return found


@transaction.atomic
def sprint_remove_items(
    *, sprint: Sprint, items: Iterable[BacklogItem], actor: AbstractBaseUser | None
) -> list[BacklogItem]:
    sprint = Sprint.objects.select_for_update().select_related("project").get(pk=sprint.pk)
    if sprint.state == SprintState.CLOSED:
        raise ValidationError({"sprint": f"{sprint.name} is closed."})
    found = [i for i in _sprint_items(sprint, items) if i.sprint_id == sprint.pk]
    _move_items(found, None, actor, sprint.project)
    return found


def _commitment(sprint: Sprint, project: Project, items: Sequence[BacklogItem]) -> dict[str, Any]:
    """What a sprint commits to as it starts: its items (in rank order) and their points."""
    return {
        "points": sprint_points(items),
        "items": [
            {"id": str(i.pk), "key": f"{project.key}-{i.number}", "estimate": float(i.estimate or 0)} for i in items
        ],
        "capacity": sprint.capacity,
    }


@transaction.atomic
def sprint_start(*, sprint: Sprint, actor: AbstractBaseUser | None) -> Sprint:
    """Start a planned sprint and freeze its commitment. One active sprint per project."""
    project = lock_project(sprint.project)
    sprint = Sprint.objects.select_for_update().get(pk=sprint.pk)
    if sprint.state != SprintState.PLANNED:
        raise ValidationError({"state": f"{sprint.name} is {sprint.get_state_display().lower()}, not planned."})
    active = Sprint.objects.filter(project=project, state=SprintState.ACTIVE).first()
    if active is not None:
        raise ValidationError({"state": f"{active.name} is still active: close it before starting another."})
    items = list(BacklogItem.objects.in_sprint(sprint).order_by("rank"))
    now = timezone.now()
    sprint.commitment = _commitment(sprint, project, items)
    sprint.state = SprintState.ACTIVE
    sprint.started_at = now
    sprint.version += 1
    try:
        with transaction.atomic():
            sprint.save(update_fields=["commitment", "state", "started_at", "version", "updated_at"])
    except IntegrityError as exc:  # the partial unique index caught a race
        raise ValidationError({"state": "Another sprint of this project is already active."}) from exc
    history_record(
        workspace_id=project.workspace_id,
        project=project,
        sprint=sprint,
        actor=actor,
        action=HistoryAction.CHANGED,
        changes={"state": (SprintState.PLANNED, SprintState.ACTIVE)},
        at=now,
    )
    _sprint_changed(sprint, project.workspace_id, ChangeOp.UPDATE, ["commitment", "started_at", "state"])
    feedback_refresh_for_items([i.pk for i in items])
    return sprint


@transaction.atomic
def sprint_close(*, sprint: Sprint, actor: AbstractBaseUser | None, carry_over_to: Sprint | None = None) -> Sprint:
    """Close the active sprint.

    Done items are stamped; feedback whose linked items are all done becomes addressed; the
    review is frozen (with the unfinished items as carry-over); then unfinished items go back
    to the backlog or into `carry_over_to`, a planned sprint of the same project.
    """
    from tracker.services.review import sprint_review

    project = lock_project(sprint.project)
    sprint = Sprint.objects.select_for_update().select_related("project__workspace").get(pk=sprint.pk)
    if sprint.state != SprintState.ACTIVE:
        raise ValidationError({"state": f"Only an active sprint can be closed; {sprint.name} is {sprint.state}."})
    if carry_over_to is not None:
        if carry_over_to.project_id != project.pk:
            raise ValidationError({"carry_over_to": "Carry over into a sprint of the same project."})
        if carry_over_to.state != SprintState.PLANNED or carry_over_to.pk == sprint.pk:
            raise ValidationError({"carry_over_to": f"{carry_over_to.name} is not a planned sprint."})
    now = timezone.now()
    ids = BacklogItem.objects.filter(sprint=sprint, deleted_at__isnull=True).values_list("pk", flat=True)
    items = list(lock_items(ids).values())
    done = [i for i in items if i.status == ItemStatus.DONE]
    unfinished = [i for i in items if i.status not in (ItemStatus.DONE, ItemStatus.WONT_DO)]
    # Items done before done_at had one meaning have none: the close is when they count as done.
    items_save(
        project=project, actor=actor, changed=[(i, {"done_at": (None, now)}) for i in done if i.done_at is None], at=now
    )
    feedback_refresh_for_items([i.pk for i in items])

    sprint.state = SprintState.CLOSED
    sprint.closed_at = now
    sprint.completed_points = sprint_points(done)
    sprint.review_snapshot = sprint_review(sprint, live=True)
    _move_items(unfinished, carry_over_to, actor, project)
    sprint.version += 1
    sprint.save(update_fields=["state", "closed_at", "completed_points", "review_snapshot", "version", "updated_at"])
    history_record(
        workspace_id=project.workspace_id,
        project=project,
        sprint=sprint,
        actor=actor,
        action=HistoryAction.CHANGED,
        changes={"state": (SprintState.ACTIVE, SprintState.CLOSED)},
        at=now,
    )
    _sprint_changed(sprint, project.workspace_id, ChangeOp.UPDATE, ["closed_at", "completed_points", "state"])
    if project.notify_customers:
        # The digests go out after commit, claimed one by one (services.notifications).
        dispatch("tracker.sprint_notify_task", sprint.pk)
    return sprint


def sprint_active(project: Project) -> Sprint | None:
    return Sprint.objects.filter(project=project, state=SprintState.ACTIVE).first()


def sprints_save(
    *,
    project: Project,
    created: Sequence[Sprint] = (),
    changed: Sequence[tuple[Sprint, Sequence[str]]] = (),
    at: datetime | None = None,
    history: bool = True,
) -> None:
    """Write new sprints (History "created" at their creation) and changed ones (new values
    set, the changed fields named; a new version each), with the change feed. For loaders
    that build whole sprints at once (the demo seeder); the lifecycle goes through
    sprint_start and sprint_close."""
    at = at or timezone.now()
    rows_insert(Sprint, list(created))
    entries = []
    for sprint in created if history else ():
        entries += history_entries(
            workspace_id=project.workspace_id,
            project_id=project.pk,
            sprint_id=sprint.pk,
            actor=None,
            action=HistoryAction.CREATED,
            at=min(sprint.created_at or at, at),
        )
    rows_insert(History, entries)
    columns = {name for _, names in changed for name in names}
    for sprint, _names in changed:
        sprint.version += 1
        sprint.updated_at = at
    if changed:
        bulk_set(Sprint, [s for s, _ in changed], sorted(columns | {"version", "updated_at"}))
    changes_record(
        workspace_id=project.workspace_id,
        rows=[
            *(ChangeRow(ChangeKind.SPRINT, s.pk, ChangeOp.CREATE, project.pk, s.version) for s in created),
            *(
                ChangeRow(ChangeKind.SPRINT, s.pk, ChangeOp.UPDATE, project.pk, s.version, tuple(sorted(names)))
                for s, names in changed
            ),
        ],
        at=at,
    )


def sprints_ensure(*, project: Project, wanted: Sequence[tuple[str, date, date]]) -> dict[str, Sprint]:
    """The project's sprints of these names, creating the missing ones as planned sprints
    with the dates given (an import bringing its sprints along). Dates are clamped to the
    sprint rules (an end on or after the start, at most 90 days)."""
    project = lock_project(project)
    names = [name for name, _, _ in wanted]
    found = {s.name: s for s in Sprint.objects.filter(project=project, name__in=names)}
    created = []
    number = project.next_sprint_number
    now = timezone.now()
    for name, start, end in wanted:
        if name in found:
            continue
        end = min(max(end, start), start + timedelta(days=90))
        sprint = Sprint(
            project=project,
            number=number,
            name=name[:120],
            start_date=start,
            end_date=end,
            created_at=now,
            updated_at=now,
        )
        number += 1
        created.append(sprint)
        found[name] = sprint
    if created:
        Project.objects.filter(pk=project.pk).update(next_sprint_number=number)
        project.next_sprint_number = number
        sprints_save(project=project, created=created, at=now)
    return found


def sprints_settle(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    closed: Sequence[tuple[Sprint, datetime, datetime]] = (),
    active: Sprint | None = None,
) -> None:
    """Give planned sprints the state they had where they came from: `closed` ones (with
    when they started and closed) get their commitment, completed points and frozen review
    as if they had run here; `active` is started (if no other sprint of the project is)."""
    from tracker.services.review import sprint_review

    project = lock_project(project)
    for sprint, started_at, closed_at in closed:
        sprint = Sprint.objects.select_for_update().select_related("project__workspace").get(pk=sprint.pk)
        if sprint.state != SprintState.PLANNED:
            continue
        items = list(BacklogItem.objects.in_sprint(sprint).order_by("rank"))
        sprint.commitment = _commitment(sprint, project, items)
        sprint.state = SprintState.CLOSED
        sprint.started_at = started_at
        sprint.closed_at = closed_at
        sprint.completed_points = sprint_points([i for i in items if i.status == ItemStatus.DONE])
        sprint.review_snapshot = sprint_review(sprint, live=True)
        sprints_save(
            project=project,
            changed=[
                (sprint, ["commitment", "state", "started_at", "closed_at", "completed_points", "review_snapshot"])
            ],
        )
    if active is not None and active.state == SprintState.PLANNED and sprint_active(project) is None:
        sprint_start(sprint=active, actor=actor)
