"""The pages work under a Content-Security-Policy without unsafe-inline or eval for scripts."""

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tracker.services.backlog import item_create

pytestmark = pytest.mark.browser
CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"


def test_pages_run_under_a_strict_script_policy(logged_in, page, team):
    workspace, project, _ = team
    item_create(project=project, actor=None, title="Gift cards")
    f.FeedbackFactory(workspace=workspace, body="Gift cards please")
    f.FeedbackFactory(workspace=workspace, body="Dark mode at night")
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    page.route("**/acme-test/**", with_csp)
    logged_in("SHOP/backlog/")
    logged_in("SHOP/planning/")
    logged_in("inbox/")
    page.keyboard.press("j")  # htmx and the app's script both have to run for this
    expect(page.locator("#inbox-detail")).to_contain_text("Dark mode at night")  # the newest
    page.keyboard.press("?")
    expect(page.locator("#help-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    with page.expect_response(lambda r: "q=gift" in r.url):
        page.get_by_label("Search").type("gift")
    expect(page.locator("#inbox-list")).not_to_contain_text("Dark mode at night")
    expect(page.locator("#inbox-list")).to_contain_text("Gift cards please")
    assert violations == []
