"""The only place that decides who may see or change what.

Workspace roles: owner and admin may do everything in their workspace; members see every
project and act in a project by their project role; guests see only the projects they were
added to, read-only, and no customer data. Anything the user may not know exists answers
404 (Http404); what they may see but not change answers 403 (PermissionDenied).

    product_owner   view comment edit_items rank manage_sprints manage_project
    scrum_master    view comment edit_items rank manage_sprints
    developer       view comment edit_items rank
    stakeholder     view comment
    (member, no project role)  view

Workspace-level: members (not guests) read feedback and customers and may submit feedback;
admins and the product owners of any project triage it and edit customers; only admins
manage the workspace (members, webhooks, objectives, settings). A read-scoped API token
allows only viewing, whatever its user's role.

Customer data is anything naming or quoting a customer: feedback, customers, the sprint
review (quotes, customers, annual value) and its exports, and the feedback linked on an item
page. Reading any of it takes VIEW_FEEDBACK, which guests never have.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from tracker.models import (
    Membership,
    Project,
    ProjectMembership,
    ProjectRole,
    Workspace,
    WorkspaceRole,
)


class Action(StrEnum):
    VIEW = "view"
    COMMENT = "comment"
    EDIT_ITEMS = "edit_items"
    RANK = "rank"
    MANAGE_SPRINTS = "manage_sprints"
    MANAGE_PROJECT = "manage_project"
    VIEW_FEEDBACK = "view_feedback"
    CREATE_FEEDBACK = "create_feedback"
    TRIAGE_FEEDBACK = "triage_feedback"
    EDIT_CUSTOMERS = "edit_customers"
    MANAGE_WORKSPACE = "manage_workspace"


READ_ACTIONS = frozenset({Action.VIEW, Action.VIEW_FEEDBACK})
PROJECT_ACTIONS = frozenset(
    {Action.VIEW, Action.COMMENT, Action.EDIT_ITEMS, Action.RANK, Action.MANAGE_SPRINTS, Action.MANAGE_PROJECT}
)

PROJECT_ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    ProjectRole.PRODUCT_OWNER: frozenset(PROJECT_ACTIONS),
    ProjectRole.SCRUM_MASTER: frozenset(
        {Action.VIEW, Action.COMMENT, Action.EDIT_ITEMS, Action.RANK, Action.MANAGE_SPRINTS}
    ),
    ProjectRole.DEVELOPER: frozenset({Action.VIEW, Action.COMMENT, Action.EDIT_ITEMS, Action.RANK}),
    ProjectRole.STAKEHOLDER: frozenset({Action.VIEW, Action.COMMENT}),
}
ADMIN_ROLES = frozenset({WorkspaceRole.OWNER, WorkspaceRole.ADMIN})


@dataclass
class Actor:
    """A user acting in one workspace: their roles, loaded once per request.

    The project roles are read on first use (one query): most requests of admins and members
    never need them, and a list request pays for every query it makes.
    """

    user: AbstractBaseUser | AnonymousUser
    workspace: Workspace
    role: str
    read_only: bool = False
    _project_roles: dict[Any, str] | None = None

    @property
    def project_roles(self) -> dict[Any, str]:
        if self._project_roles is None:
            self._project_roles = dict(
                ProjectMembership.objects.filter(project__workspace=self.workspace, user=self.user).values_list(
                    "project_id", "role"
                )
            )
        return self._project_roles

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def is_guest(self) -> bool:
        return self.role == WorkspaceRole.GUEST

    def can_see_project(self, project: Project) -> bool:
        if project.workspace_id != self.workspace.pk:
            return False
        return not self.is_guest or project.pk in self.project_roles

    def can(self, action: Action, project: Project | None = None) -> bool:
        if self.read_only and action not in READ_ACTIONS:
            return False
        if action in PROJECT_ACTIONS:
            if project is None or not self.can_see_project(project):
                return False
            if self.is_admin:
                return True
            if self.is_guest:
                return action == Action.VIEW
            role = self.project_roles.get(project.pk)
            allowed = PROJECT_ROLE_ACTIONS.get(role, frozenset({Action.VIEW})) if role else {Action.VIEW}
            return action in allowed
        if self.is_admin:
            return True
        if self.is_guest:
            return False
        if action in (Action.VIEW_FEEDBACK, Action.CREATE_FEEDBACK):
            return True
        if action in (Action.TRIAGE_FEEDBACK, Action.EDIT_CUSTOMERS):
            return ProjectRole.PRODUCT_OWNER in self.project_roles.values()
        return False

    def require(self, action: Action, project: Project | None = None) -> None:
        """Raise 404 for a project the actor may not see, 403 for an action they may not do."""
        if project is not None and not self.can_see_project(project):
            raise Http404("No such project.")
        if not self.can(action, project):
            raise PermissionDenied(f"Your role does not allow this ({action.value}).")

    def projects(self) -> QuerySet[Project]:
        projects = Project.objects.filter(workspace=self.workspace)
        if self.is_guest:
            projects = projects.filter(pk__in=list(self.project_roles))
        return projects

    def project(self, key: str) -> Project:
        """The project with this key that the actor may see, else 404."""
        project = Project.objects.filter(workspace=self.workspace, key=key).first()
        if project is None or not self.can_see_project(project):
            raise Http404("No such project.")
        project.workspace = self.workspace
        return project


def actor_for(
    user: AbstractBaseUser | AnonymousUser,
    workspace: Workspace,
    *,
    read_only: bool = False,
    role: str | None = None,
) -> Actor:
    """The actor for a member of `workspace`; 404 for anyone else. One query, none when the
    caller already read the user's workspace `role` (an API token carries it)."""
    if not user.is_authenticated:
        raise Http404("No such workspace.")
    if role is None:
        role = Membership.objects.filter(workspace=workspace, user=user).values_list("role", flat=True).first()
    if role is None:
        raise Http404("No such workspace.")
    return Actor(user=user, workspace=workspace, role=role, read_only=read_only)


def workspace_actor(user: AbstractBaseUser | AnonymousUser, slug: str, *, read_only: bool = False) -> Actor:
    """The user's actor in the workspace with this slug; 404 for non-members and unknown
    slugs alike. One query: the membership with its workspace."""
    if not user.is_authenticated:
        raise Http404("No such workspace.")
    membership = Membership.objects.select_related("workspace").filter(workspace__slug=slug, user=user).first()
    if membership is None:
        raise Http404("No such workspace.")
    return Actor(user=user, workspace=membership.workspace, role=membership.role, read_only=read_only)


def workspaces_of(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Workspace]:
    if not user.is_authenticated:
        return Workspace.objects.none()
    return Workspace.objects.filter(memberships__user=user).order_by("slug")


def import_right(job: Any) -> tuple[Action, Project | None]:
    """What starting or discarding an import job takes: who may upload its kind of file —
    feedback triage, or editing the items of the backlog it goes into."""
    if job.kind == "feedback":
        return Action.TRIAGE_FEEDBACK, None
    return Action.EDIT_ITEMS, job.project
