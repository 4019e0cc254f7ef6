"""The main journeys through the web UI in a real browser."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import drag
from tracker.models import BacklogItem, Feedback, FeedbackLink, ItemStatus, Sprint, SprintState, TriageState
from tracker.services.backlog import item_create, item_update
from tracker.services.feedback import feedback_link
from tracker.services.sprints import sprint_add_items, sprint_create, sprint_start

pytestmark = pytest.mark.browser


def titles(page, selector):
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_logging_in_opens_the_workspace(page, live_server, team):
    page.goto(f"{live_server.url}/")
    page.wait_for_url("**/login/**")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/acme-test/")
    expect(page.locator("h1")).to_have_text("Acme Test")
    expect(page.locator(".nav")).to_contain_text("Online shop")


def test_dragging_a_backlog_row_reorders_it_and_the_order_survives_a_reload(logged_in, page, team):
    _, project, _ = team
    for title in ("First", "Second", "Third"):
        item_create(project=project, actor=None, title=title, estimate=Decimal(1))
    logged_in("SHOP/backlog/")
    assert titles(page, ".item-title") == ["First", "Second", "Third"]
    rows = page.locator("#backlog-list tbody tr")
    with page.expect_response(lambda r: "/backlog/move/" in r.url) as moved:
        drag(page, rows.nth(2).locator(".handle"), rows.nth(0))
    assert moved.value.status == 204
    page.reload()
    page.wait_for_load_state("networkidle")
    assert titles(page, ".item-title") == ["Third", "First", "Second"]


def test_the_move_up_button_reorders_from_the_keyboard(logged_in, page, team):
    _, project, _ = team
    for title in ("First", "Second"):
        item_create(project=project, actor=None, title=title)
    logged_in("SHOP/backlog/")
    button = page.get_by_role("button", name="Move SHOP-2 up")
    button.focus()
    with page.expect_response(lambda r: "/backlog/move/" in r.url):
        page.keyboard.press("Enter")
    expect(page.locator(".item-title").first).to_have_text("Second")


def test_planning_a_sprint_by_dragging_and_starting_it(logged_in, page, team):
    _, project, _ = team
    sprint_create(project=project, actor=None, name="Sprint 1", capacity=10)
    item_create(project=project, actor=None, title="Gift wrapping", estimate=Decimal(3))
    item_create(project=project, actor=None, title="Faster search", estimate=Decimal(5))
    logged_in("SHOP/planning/")
    source = page.locator("[data-plan-list='backlog'] .plan-row", has_text="Faster search").locator(".handle")
    with page.expect_response(lambda r: "/sprints/1/plan/" in r.url):
        drag(page, source, page.locator("[data-plan-list='sprint']"))
    expect(page.locator("[data-testid='committed-points']")).to_have_text("5")
    expect(page.locator("[data-plan-list='sprint']")).to_contain_text("Faster search")
    page.get_by_role("button", name="Start sprint").click()
    page.wait_for_url("**/SHOP/board/")
    expect(page.locator("[data-board-column='backlog']")).to_contain_text("Faster search")
    assert Sprint.objects.get(project=project).state == SprintState.ACTIVE


def test_moving_a_card_on_the_board_changes_its_status(logged_in, page, team):
    _, project, _ = team
    sprint = sprint_create(project=project, actor=None, name="Sprint 1")
    item = item_create(project=project, actor=None, title="Wishlist", estimate=Decimal(2))
    sprint_add_items(sprint=sprint, items=[item], actor=None)
    sprint_start(sprint=sprint, actor=None)
    logged_in("SHOP/board/")
    card = page.locator(".board-card", has_text="Wishlist")
    with page.expect_response(lambda r: "/items/1/quick/" in r.url):
        drag(page, card.locator(".card-title"), page.locator("[data-board-column='in_review']"))
    expect(page.locator("[data-board-column='in_review']")).to_contain_text("Wishlist")
    page.reload()
    expect(page.locator("[data-board-column='in_review']")).to_contain_text("Wishlist")
    assert BacklogItem.objects.get(pk=item.pk).status == ItemStatus.IN_REVIEW


def test_triaging_three_feedback_entries_with_the_keyboard(logged_in, page, team, customer):
    workspace, project, _ = team
    target = item_create(project=project, actor=None, title="Gift wrapping at checkout")
    for n, body in enumerate(["Spam spam spam", "Search never finds my size", "I want gift wrapping for presents"]):
        fb = f.FeedbackFactory(workspace=workspace, customer=customer, body=body)
        fb.received_at = fb.received_at.replace(hour=n + 1)
        fb.save()
    logged_in("inbox/")
    page.keyboard.press("j")
    detail = page.locator("#inbox-detail")
    expect(detail).to_contain_text("gift wrapping for presents")
    # Select words of the feedback, then `l`: the quote is prefilled from the selection.
    page.locator("[data-quote-source]").evaluate(
        "el => { const r = document.createRange(); const t = el.firstChild;"
        " r.setStart(t, 7); r.setEnd(t, 20); const s = window.getSelection(); s.removeAllRanges(); s.addRange(r); }"
    )
    page.keyboard.press("l")
    expect(page.locator("#link-quote")).to_have_value("gift wrapping")
    expect(page.locator("#item-search")).to_be_focused()
    page.keyboard.type("gift")
    page.locator("[data-pick]", has_text="SHOP-1").wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # picks the item and moves on to the quote
    expect(page.locator("#link-quote")).to_be_focused()
    with page.expect_response(lambda r: r.url.endswith("/link/")):
        page.keyboard.press("Control+Enter")
    expect(detail).to_contain_text("Linked to SHOP-1")

    page.keyboard.press("j")
    expect(detail).to_contain_text("Search never finds my size")
    page.keyboard.press("c")
    title = page.locator("#inbox-detail input[name=title]")
    expect(title).to_be_focused()
    title.fill("Size filter in search")
    with page.expect_response(lambda r: r.url.endswith("/create/")):
        page.keyboard.press("Enter")
    expect(detail).to_contain_text("Created SHOP-2")

    page.keyboard.press("j")
    expect(detail).to_contain_text("Spam spam spam")
    with page.expect_response(lambda r: r.url.endswith("/dismiss/")):
        page.keyboard.press("x")
    expect(detail).to_contain_text("Dismissed")

    assert FeedbackLink.objects.get(item=target).quote == "gift wrapping"
    assert BacklogItem.objects.get(project=project, number=2).title == "Size filter in search"
    assert Feedback.objects.get(body="Spam spam spam").triage == TriageState.DISMISSED


def test_closing_the_sprint_opens_its_review_with_customers_and_quotes(logged_in, page, team, customer):
    workspace, project, _ = team
    sprint = sprint_create(project=project, actor=None, name="Sprint 1")
    item = item_create(project=project, actor=None, title="Gift wrapping", estimate=Decimal(3))
    fb = f.FeedbackFactory(workspace=workspace, customer=customer, body="Please offer gift wrapping")
    feedback_link(feedback=fb, item=item, actor=None, quote="offer gift wrapping")
    sprint_add_items(sprint=sprint, items=[item], actor=None)
    sprint_start(sprint=sprint, actor=None)
    item_update(item=item, actor=None, status=ItemStatus.DONE)
    logged_in("SHOP/board/")
    page.get_by_role("button", name="Close sprint…").click()
    dialog = page.locator("#close-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("carla@example.com")
    dialog.get_by_role("button", name="Close sprint").click()
    page.wait_for_url("**/SHOP/sprints/1/review/")
    problems = page.locator("#problems")
    expect(problems).to_contain_text("offer gift wrapping")
    expect(problems).to_contain_text("Carla Customer")
    assert Sprint.objects.get(pk=sprint.pk).state == SprintState.CLOSED


def test_a_customer_submits_the_public_feedback_form(page, live_server, team):
    page.goto(f"{live_server.url}/acme-test/feedback/new/")
    page.get_by_label("Your name").fill("Pat")
    page.get_by_label("Your e-mail").fill("pat@example.com")
    page.get_by_label("Your feedback").fill("The app should remember my basket")
    page.get_by_label("How likely are you").select_option("8")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.locator("h1")).to_have_text("Thank you!")
    fb = Feedback.objects.get(body="The app should remember my basket")
    assert (fb.channel, fb.nps, fb.customer.email) == ("web_form", 8, "pat@example.com")


def test_quick_editing_status_and_estimate_in_the_backlog_row(logged_in, page, team):
    _, project, _ = team
    item = item_create(project=project, actor=None, title="Gift cards")
    logged_in("SHOP/backlog/")
    with page.expect_response(lambda r: "/items/1/quick/" in r.url):
        page.get_by_label("Status of SHOP-1").select_option("ready")
    # The row is swapped for the fresh one (new version) after the response: wait for that.
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    expect(page.get_by_label("Status of SHOP-1")).to_have_value("ready")
    with page.expect_response(lambda r: "/items/1/quick/" in r.url):
        page.get_by_label("Points of SHOP-1").fill("5")
        page.keyboard.press("Tab")
    expect(page.get_by_label("Points of SHOP-1")).to_have_value("5")
    item.refresh_from_db()
    assert (item.status, item.estimate) == (ItemStatus.READY, Decimal(5))


def test_searching_the_planning_backlog_as_you_type(logged_in, page, team):
    _, project, _ = team
    sprint_create(project=project, actor=None, name="Sprint 1")
    for title in ("Gift wrapping", "Faster search"):
        item_create(project=project, actor=None, title=title)
    logged_in("SHOP/planning/")
    with page.expect_response(lambda r: "q=gift" in r.url):
        page.get_by_label("Search the backlog").type("gift")
    backlog = page.locator("[data-plan-list='backlog']")
    expect(backlog).to_contain_text("Gift wrapping")
    expect(backlog).not_to_contain_text("Faster search")
