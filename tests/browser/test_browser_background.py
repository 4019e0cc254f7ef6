"""Imports and suggestions in a real browser."""

import pytest
from playwright.sync_api import expect

from tracker.models import Feedback, ImportJob, TriageState
from tracker.services.backlog import item_create
from tracker.services.feedback import feedback_create

pytestmark = pytest.mark.browser

REVIEWS = b"""\
Review,E-mail,Customer,NPS,ID
"Search is broken, please fix",ann@example.com,Ann,3,r1
Love the dark mode,bob@example.com,Bob,10,r2
Slow to load,cid@example.com,Cid,11,r3
"""


def test_uploading_feedback_shows_the_import_report(logged_in, page, team, tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_bytes(REVIEWS)
    logged_in("imports/")
    page.select_option("#id_kind", "feedback")
    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="Preview import").click()
    page.wait_for_url("**/acme-test/imports/*/")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-progress h2")).to_have_text("Import finished")
    expect(page.locator("[data-report=created]")).to_have_text("2")
    expect(page.locator(".bad-rows")).to_contain_text("NPS must be a whole number from 0 to 10, not 11")
    expect(page.locator(".bad-rows td").first).to_have_text("4")
    assert ImportJob.objects.get().created == 2
    page.get_by_role("link", name="Import another file").click()
    expect(page.locator("table")).to_contain_text("reviews.csv")


def test_a_refused_upload_says_why(logged_in, page, team, tmp_path):
    path = tmp_path / "logo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    logged_in("imports/")
    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="Preview import").click()
    expect(page.locator("[data-import-error]")).to_contain_text("not a CSV or JSON")
    assert not ImportJob.objects.exists()


def test_marking_a_suggested_duplicate_from_the_inbox(logged_in, page, team):
    workspace, project, _ = team
    item_create(project=project, actor=None, title="Google sign in fails")
    original = feedback_create(workspace=workspace, actor=None, body="Login fails with Google sign in every time")
    feedback_create(workspace=workspace, actor=None, body="Please add a dark mode for night use")
    new = feedback_create(workspace=workspace, actor=None, body="Google login does not work when I sign in")
    logged_in(f"inbox/?triage=all&selected={new.pk}")
    suggestions = page.locator(".suggestions")
    expect(suggestions).to_contain_text("Similar feedback")
    expect(suggestions).to_contain_text("Matching items")
    expect(suggestions.locator("[data-suggestion=item] input[name=quote]").first).to_have_value(new.body)
    suggestions.get_by_role("button", name="Mark as duplicate of this").first.click()
    expect(page.locator("#inbox-detail .ok")).to_contain_text("Marked as a duplicate")
    new.refresh_from_db()
    assert new.triage == TriageState.DUPLICATE and new.duplicate_of_id == original.pk
    assert Feedback.objects.filter(triage=TriageState.DUPLICATE).count() == 1
