import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from tests import factories as f


def test_a_segment_mix_that_does_not_add_up_to_100_is_refused_by_the_database(workspace):
    with pytest.raises(IntegrityError):
        f.ProjectFactory(
            workspace=workspace, key="BAD", mix_end_customer=50, mix_employee=10, mix_management=10, mix_partner=10
        )


def test_a_wrong_segment_mix_gets_a_clear_form_message(workspace):
    project = f.ProjectFactory.build(workspace=workspace, key="BAD", mix_end_customer=90)
    with pytest.raises(ValidationError) as exc:
        project.full_clean()
    assert "add up to 100%" in str(exc.value)


def test_project_keys_are_unique_in_a_workspace_but_not_across(workspace, other_workspace):
    f.ProjectFactory(workspace=workspace, key="SHOP")
    f.ProjectFactory(workspace=other_workspace, key="SHOP")
    with pytest.raises(IntegrityError):
        f.ProjectFactory(workspace=workspace, key="SHOP")


def test_a_lowercase_project_key_is_refused_by_the_database(workspace):
    with pytest.raises(IntegrityError):
        f.ProjectFactory(workspace=workspace, key="shop")


def test_customer_external_ids_are_unique_per_workspace_and_source(workspace, other_workspace):
    f.CustomerFactory(workspace=workspace, source="crm", external_id="1")
    f.CustomerFactory(workspace=workspace, source="zendesk", external_id="1")
    f.CustomerFactory(workspace=other_workspace, source="crm", external_id="1")
    f.CustomerFactory(workspace=workspace, source="crm", external_id="")
    f.CustomerFactory(workspace=workspace, source="crm", external_id="")
    with pytest.raises(IntegrityError):
        f.CustomerFactory(workspace=workspace, source="crm", external_id="1")


def test_feedback_external_ids_are_unique_per_workspace_and_source(workspace):
    f.FeedbackFactory(workspace=workspace, source="zendesk", external_id="77")
    with pytest.raises(IntegrityError):
        f.FeedbackFactory(workspace=workspace, source="zendesk", external_id="77")


def test_a_duplicate_must_name_its_original(workspace):
    with pytest.raises(IntegrityError):
        f.FeedbackFactory(workspace=workspace, triage="duplicate")


def test_every_model_is_in_the_admin():
    from django.apps import apps
    from django.contrib import admin

    missing = [m.__name__ for m in apps.get_app_config("tracker").get_models() if m not in admin.site._registry]
    assert missing == []
