import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tests import factories as f
from tracker.access import Action, actor_for, workspace_actor
from tracker.models import ProjectRole, WorkspaceRole

EVERY_PROJECT_ACTION = [
    Action.VIEW,
    Action.COMMENT,
    Action.EDIT_ITEMS,
    Action.RANK,
    Action.MANAGE_SPRINTS,
    Action.MANAGE_PROJECT,
]
EXPECTED = {
    # role: project actions allowed
    "owner": set(EVERY_PROJECT_ACTION),
    "admin": set(EVERY_PROJECT_ACTION),
    ProjectRole.PRODUCT_OWNER: set(EVERY_PROJECT_ACTION),
    ProjectRole.SCRUM_MASTER: {Action.VIEW, Action.COMMENT, Action.EDIT_ITEMS, Action.RANK, Action.MANAGE_SPRINTS},
    ProjectRole.DEVELOPER: {Action.VIEW, Action.COMMENT, Action.EDIT_ITEMS, Action.RANK},
    ProjectRole.STAKEHOLDER: {Action.VIEW, Action.COMMENT},
    "member": {Action.VIEW},
    "guest": {Action.VIEW},
}


def actor_with(workspace, project, role):
    user = f.UserFactory()
    ws_role = role if role in ("owner", "admin", "guest") else WorkspaceRole.MEMBER
    f.MembershipFactory(workspace=workspace, user=user, role=ws_role)
    if role in ProjectRole.values:
        f.ProjectMembershipFactory(project=project, user=user, role=role)
    if role == "guest":
        f.ProjectMembershipFactory(project=project, user=user, role=ProjectRole.STAKEHOLDER)
    return actor_for(user, workspace)


@pytest.mark.parametrize("role", list(EXPECTED))
def test_project_actions_follow_the_role_table(workspace, project, role):
    actor = actor_with(workspace, project, role)
    allowed = {action for action in EVERY_PROJECT_ACTION if actor.can(action, project)}
    assert allowed == EXPECTED[role]


def test_a_non_member_gets_404_for_the_workspace(workspace):
    with pytest.raises(Http404):
        workspace_actor(f.UserFactory(), workspace.slug)
    with pytest.raises(Http404):
        workspace_actor(AnonymousUser(), workspace.slug)


def test_another_workspaces_project_is_404_not_403(workspace, other_workspace, po):
    foreign = f.ProjectFactory(workspace=other_workspace, key="OPS")
    actor = actor_for(po, workspace)
    with pytest.raises(Http404):
        actor.require(Action.VIEW, foreign)
    with pytest.raises(Http404):
        actor.project("OPS")


def test_a_guest_sees_only_the_projects_they_were_added_to(workspace, project):
    hidden = f.ProjectFactory(workspace=workspace, key="SECRET")
    actor = actor_with(workspace, project, "guest")
    assert list(actor.projects()) == [project]
    with pytest.raises(Http404):
        actor.project(hidden.key)


def test_a_stakeholder_may_read_but_not_reorder(workspace, project):
    actor = actor_with(workspace, project, ProjectRole.STAKEHOLDER)
    actor.require(Action.VIEW, project)
    with pytest.raises(PermissionDenied):
        actor.require(Action.RANK, project)


def test_guests_never_see_customer_data(workspace, project):
    actor = actor_with(workspace, project, "guest")
    assert not actor.can(Action.VIEW_FEEDBACK)


def test_only_product_owners_and_admins_triage_feedback(workspace, project):
    assert actor_with(workspace, project, ProjectRole.PRODUCT_OWNER).can(Action.TRIAGE_FEEDBACK)
    assert actor_with(workspace, project, "admin").can(Action.TRIAGE_FEEDBACK)
    assert not actor_with(workspace, project, ProjectRole.DEVELOPER).can(Action.TRIAGE_FEEDBACK)
    assert actor_with(workspace, project, ProjectRole.DEVELOPER).can(Action.CREATE_FEEDBACK)


def test_only_admins_manage_the_workspace(workspace, project):
    assert actor_with(workspace, project, "admin").can(Action.MANAGE_WORKSPACE)
    assert not actor_with(workspace, project, ProjectRole.PRODUCT_OWNER).can(Action.MANAGE_WORKSPACE)


def test_a_read_only_token_allows_only_viewing_whatever_the_role(workspace, project):
    owner = f.UserFactory()
    f.MembershipFactory(workspace=workspace, user=owner, role=WorkspaceRole.OWNER)
    actor = actor_for(owner, workspace, read_only=True)
    assert actor.can(Action.VIEW, project) and actor.can(Action.VIEW_FEEDBACK)
    assert not actor.can(Action.EDIT_ITEMS, project)
    assert not actor.can(Action.MANAGE_WORKSPACE)
