from django.core.management import call_command

from tracker.models import BacklogItem, Feedback, Membership, Project, Sprint, SprintState, Suggestion, Workspace


def test_seed_demo_builds_the_documented_workspaces(db):
    call_command("seed_demo", "--password", "pw")
    acme = Workspace.objects.get(slug="acme")
    assert sorted(Project.objects.filter(workspace=acme).values_list("key", flat=True)) == ["DESK", "EXEC", "SHOP"]
    assert set(Membership.objects.filter(workspace=acme).values_list("user__username", flat=True)) == {
        "admin",
        "olivia",
        "sam",
        "dana",
        "devon",
        "stella",
    }
    assert not Membership.objects.filter(workspace=acme, user__username="gary").exists()
    assert Project.objects.filter(workspace__slug="globex", key="OPS").exists()
    shop = Project.objects.get(workspace=acme, key="SHOP")
    assert Sprint.objects.filter(project=shop, state=SprintState.CLOSED).count() == 6
    assert Sprint.objects.filter(project=shop, state=SprintState.ACTIVE).count() == 1
    assert 1500 <= Feedback.objects.filter(workspace=acme).count() <= 2500
    assert BacklogItem.objects.filter(project__workspace=acme).count() >= 300
    closed = Sprint.objects.filter(project=shop, state=SprintState.CLOSED).first()
    assert closed.review_snapshot["totals"]["customers_served"] > 0
    assert Suggestion.objects.filter(feedback__workspace=acme).exists()


def test_seed_demo_is_deterministic_for_a_seed(db):
    call_command("seed_demo", "--seed", "7")
    first = list(BacklogItem.objects.order_by("project__key", "number").values_list("title", "estimate", "status"))
    call_command("seed_demo", "--seed", "7", "--reset")
    second = list(BacklogItem.objects.order_by("project__key", "number").values_list("title", "estimate", "status"))
    assert first == second


def test_the_demo_users_can_log_in(client, db):
    call_command("seed_demo")
    assert client.login(username="olivia", password="demo")
