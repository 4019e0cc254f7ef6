"""Turning the references clients send (numbers, usernames, ids) into objects, in bulk.

A batch of 1,000 entries resolves its epics, sprints, assignees and objectives in one query
each; an unknown reference is an error on that entry's field.
"""

from typing import Any

from django.contrib.auth import get_user_model

from tracker.models import BacklogItem, Customer, Objective, Project, Sprint, Workspace

Errors = dict[int, dict[str, list[str]]]


def resolve_item_refs(project: Project, entries: list[dict[str, Any]]) -> Errors:
    """Replace epic/sprint numbers, assignee usernames and objective ids by objects, in place."""
    errors: Errors = {}

    def want(name: str) -> set[Any]:
        return {e[name] for e in entries if e.get(name) is not None}

    epics = {
        i.number: i
        for i in BacklogItem.objects.filter(project=project, number__in=want("epic"), deleted_at__isnull=True)
    }
    sprints = {s.number: s for s in Sprint.objects.filter(project=project, number__in=want("sprint"))}
    users = {
        u.get_username(): u
        for u in get_user_model().objects.filter(
            username__in=want("assignee"), memberships__workspace_id=project.workspace_id
        )
    }
    objective_ids = {str(o) for e in entries for o in e.get("objectives") or []}
    objectives = {
        str(o.pk): o for o in Objective.objects.filter(workspace_id=project.workspace_id, pk__in=objective_ids)
    }
    for index, entry in enumerate(entries):
        bad: dict[str, list[str]] = {}
        for name, table, what in (
            ("epic", epics, "No live item with this number in the project."),
            ("sprint", sprints, "No sprint with this number in the project."),
            ("assignee", users, "No member of the workspace with this username."),
        ):
            if entry.get(name) is not None:
                if entry[name] in table:
                    entry[name] = table[entry[name]]
                else:
                    bad[name] = [what]
        if entry.get("objectives") is not None:
            missing = [str(o) for o in entry["objectives"] if str(o) not in objectives]
            if missing:
                bad["objectives"] = [f"Not objectives of this workspace: {', '.join(missing)}."]
            else:
                entry["objectives"] = [objectives[str(o)] for o in entry["objectives"]]
        if bad:
            errors[index] = bad
    return errors


def resolve_customers(workspace: Workspace, entries: list[dict[str, Any]]) -> Errors:
    """Replace customer ids by customers of `workspace`, in place; one query."""
    errors: Errors = {}
    ids = {str(e["customer"]) for e in entries if e.get("customer") is not None}
    customers = {str(c.pk): c for c in Customer.objects.filter(workspace=workspace, pk__in=ids)}
    for index, entry in enumerate(entries):
        if entry.get("customer") is not None:
            found = customers.get(str(entry["customer"]))
            if found is None:
                errors[index] = {"customer": ["No customer with this id in the workspace."]}
            else:
                entry["customer"] = found
    return errors
