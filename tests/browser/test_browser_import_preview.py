"""Importing a real Jira export through its preview, in a real browser."""

import pytest
from playwright.sync_api import expect

from tracker.models import BacklogItem, ImportJob, ImportStatus, ItemStatus

pytestmark = pytest.mark.browser


def test_a_backlog_file_is_previewed_then_imported_with_a_changed_status(logged_in, page, team, data_dir):
    _, project, _ = team
    export = data_dir / "real-exports" / "jira-testautogen-2025.csv"
    logged_in("imports/")
    page.select_option("#id_kind", "backlog")
    page.select_option("#id_project", "SHOP")
    page.set_input_files("#id_file", str(export))
    page.get_by_role("button", name="Preview import").click()
    page.wait_for_url("**/acme-test/imports/*/")

    preview = page.locator("#import-preview")
    expect(preview.locator("h2").first).to_have_text("Check before importing")
    expect(preview.locator("[data-preview=format]")).to_have_text("Jira CSV export")
    expect(preview.locator("[data-preview=rows]")).to_have_text("22")
    expect(preview.locator("[data-preview=creates]")).to_have_text("22")
    statuses = preview.locator(".preview-statuses")
    expect(statuses.locator("tbody tr")).to_have_count(3)
    expect(statuses.locator("tr[data-status='In Progress'] td").nth(2)).to_have_text("3")
    expect(preview.locator(".preview-sprints")).to_contain_text("TES Sprint 1")
    in_progress = page.get_by_label("In Progress", exact=True)
    expect(in_progress).to_have_value("in_progress")  # proposed from the status's name
    assert not BacklogItem.objects.filter(project=project).exists()  # a preview writes nothing

    in_progress.select_option("in_review")
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.locator("#import-progress h2")).to_have_text("Import finished")
    expect(page.locator("[data-report=created]")).to_have_text("22")
    expect(page.locator("[data-report=errors]")).to_have_text("0")
    assert ImportJob.objects.get().status == ImportStatus.DONE
    items = BacklogItem.objects.filter(project=project)
    assert items.count() == 22
    assert items.filter(status=ItemStatus.IN_REVIEW).count() == 3
    assert not items.filter(status=ItemStatus.IN_PROGRESS).exists()


def test_cancelling_a_preview_leaves_nothing_behind(logged_in, page, team, tmp_path):
    _, project, _ = team
    path = tmp_path / "jira.csv"
    path.write_bytes(b"Summary,Issue key,Status\nFaster search,SHOP-1,UAT\n")
    logged_in("imports/")
    page.select_option("#id_kind", "backlog")
    page.select_option("#id_project", "SHOP")
    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="Preview import").click()
    expect(page.locator("#import-preview")).to_contain_text("Read 1 row as")
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_url("**/acme-test/imports/")
    expect(page.locator("main")).to_contain_text("No imports yet.")
    assert not ImportJob.objects.exists()
    assert not BacklogItem.objects.filter(project=project).exists()
