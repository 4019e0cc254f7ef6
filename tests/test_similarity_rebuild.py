"""Suggestions after a bulk load: the index is rebuilt, then untriaged feedback gets its
suggestions stored (what the demo needs to show them)."""

from django.core.management import call_command

from tests import factories as f
from tracker.models import Suggestion, TriageState
from tracker.services.similarity import suggestions_for, suggestions_rebuild, workspace_reindex


def bulk_loaded(workspace, project):
    f.ItemFactory(project=project, number=1, title="Google sign in fails")
    texts = ["Login fails with Google sign in", "Google login does not work", "Dark mode please", "Excel export"]
    return [f.FeedbackFactory(workspace=workspace, body=text) for text in texts]


def test_rebuilding_stores_suggestions_for_untriaged_feedback(workspace, project):
    login, google, dark, excel = bulk_loaded(workspace, project)
    excel.triage = TriageState.ACCEPTED
    excel.save(update_fields=["triage"])
    workspace_reindex(workspace_id=workspace.pk)
    assert not Suggestion.objects.exists()
    assert suggestions_rebuild(workspace_id=workspace.pk, limit=1) == 1
    assert suggestions_rebuild(workspace_id=workspace.pk) == 3
    found = suggestions_for(google)
    assert [s.similar_feedback for s in found["duplicates"]] == [login]
    assert [s.item.title for s in found["items"]] == ["Google sign in fails"]
    assert not Suggestion.objects.filter(feedback=excel).exists()


def test_the_reindex_command_stores_suggestions_of_one_workspace_only(workspace, project, other_workspace):
    bulk_loaded(workspace, project)
    f.FeedbackFactory(workspace=other_workspace, body="Google login does not work at all")
    call_command("similarity_reindex", "--workspace", workspace.slug, verbosity=0)
    assert Suggestion.objects.filter(feedback__workspace=workspace).exists()
    assert not Suggestion.objects.exclude(feedback__workspace=workspace).exists()
    for s in Suggestion.objects.select_related("similar_feedback", "item__project"):
        assert (s.similar_feedback or s.item.project).workspace_id == workspace.pk
