"""Screenshots of the main pages on the demo data, for the README: `make screenshots`.

Skipped unless LOOPWISE_SCREENSHOTS=1, so the normal suite does not rewrite the images."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count

from tests.conftest import DATA_DIR, need
from tracker.models import BacklogItem, Customer, Project, Sprint, SprintState, Workspace
from tracker.services.imports import import_start

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("LOOPWISE_SCREENSHOTS") != "1",
        reason="takes the README screenshots; run `make screenshots` (sets LOOPWISE_SCREENSHOTS=1)",
    ),
]
OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
REVIEWS = b"""\
Review,E-mail,Customer,NPS,Date,ID
"Checkout keeps asking for my address again",ann@example.com,Ann Archer,4,2026-10-01,r1
Love the new order tracking,bob@example.com,Bob Baker,10,2026-10-02,r2
,cid@example.com,Cid Cole,5,2026-10-03,r3
"The app is slow to load my orders",dee@example.com,Dee Dunn,11,2026-10-04,r4
"Search never finds the shoes I bought",eve@example.com,Eve East,6,not a date,r5
"Please add Apple Pay",fay@example.com,Fay Ford,8,2026-10-05,r6
"""


def test_screenshots_of_the_main_pages(page, live_server, transactional_db):
    need(Path("/usr/bin/chromium").exists() or "CHROMIUM_PATH" in os.environ, "Chromium is needed for screenshots")
    call_command("seed_demo", verbosity=0)
    call_command("similarity_reindex", verbosity=0)  # the seeder bulk-loads: index it, store suggestions
    job = import_start(
        workspace=Workspace.objects.get(slug="acme"),
        actor=None,
        kind="feedback",
        filename="app-reviews.csv",
        data=REVIEWS,
        source="appstore",
    )
    need(DATA_DIR.is_dir(), f"the shared data folder {DATA_DIR} is absent (set LOOPWISE_DATA_DIR)")
    preview = import_start(
        workspace=Workspace.objects.get(slug="acme"),
        actor=None,
        kind="backlog",
        project=Project.objects.get(workspace__slug="acme", key="SHOP"),
        filename="jira-export.csv",
        data=(DATA_DIR / "real-exports" / "jira-testautogen-2025.csv").read_bytes(),
        preview=True,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    item = (
        BacklogItem.objects.filter(project__key="SHOP", project__workspace__slug="acme", kind="story")
        .order_by("-feedback_count")
        .first()
    )
    customer = (
        Customer.objects.filter(workspace__slug="acme", email__gt="")
        .annotate(n=Count("feedback"))
        .order_by("-n", "name")
        .first()
    )
    review = (
        Sprint.objects.filter(project__key="SHOP", project__workspace__slug="acme", state=SprintState.CLOSED)
        .order_by("-number")
        .first()
    )
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/acme/")
    shots = {
        "backlog": "/acme/SHOP/backlog/",
        "planning": "/acme/SHOP/planning/",
        "board": "/acme/SHOP/board/",
        "inbox": "/acme/inbox/",
        "item": f"/acme/SHOP/items/{item.number}/",
        "customer": f"/acme/customers/{customer.pk}/",
        "review": f"/acme/SHOP/sprints/{review.number}/review/",
        "reports": "/acme/reports/",
        "imports": f"/acme/imports/{job.pk}/",
        "import-preview": f"/acme/imports/{preview.pk}/",
    }
    for name, path in shots.items():
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        if name == "inbox":
            page.keyboard.press("j")
            page.locator("#inbox-detail .fb-detail").wait_for()
            page.keyboard.press("l")
            page.keyboard.type("deliver")
            page.locator("[data-pick]").first.wait_for()
            page.locator("body").click(position={"x": 5, "y": 890})
        page.screenshot(path=str(OUT / f"{name}.png"))
        assert (OUT / f"{name}.png").stat().st_size > 10_000
