"""Browser tests: Playwright drives the system Chromium against live_server. Without
Chromium a developer's machine skips them; under CI=true they fail instead."""

import os
from decimal import Decimal
from pathlib import Path

import pytest

from tests import factories as f
from tests.conftest import need
from tracker import models as m

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    need(Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}}


@pytest.fixture
def team(transactional_db):
    """Workspace acme-test with project SHOP and a product owner `olivia` (password pw)."""
    workspace = f.WorkspaceFactory(slug="acme-test", name="Acme Test")
    project = f.ProjectFactory(workspace=workspace, key="SHOP", name="Online shop")
    olivia = f.UserFactory(username="olivia", first_name="Olivia")
    f.MembershipFactory(workspace=workspace, user=olivia)
    f.ProjectMembershipFactory(project=project, user=olivia, role=m.ProjectRole.PRODUCT_OWNER)
    return workspace, project, olivia


@pytest.fixture
def customer(team):
    workspace, _, _ = team
    return f.CustomerFactory(
        workspace=workspace, name="Carla Customer", email="carla@example.com", annual_value=Decimal(5000)
    )


@pytest.fixture
def logged_in(page, live_server, team):
    """A page logged in as olivia; returns a function to open paths under the workspace."""
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/acme-test/")

    def open_path(path: str) -> None:
        page.goto(f"{live_server.url}/acme-test/{path}")
        page.wait_for_load_state("networkidle")

    return open_path


def drag(page, source, target, *, below: bool = False) -> None:
    """Drag with real mouse events (SortableJS runs in fallback mode, so this is what a user does)."""
    src = source.bounding_box()
    dst = target.bounding_box()
    page.mouse.move(src["x"] + src["width"] / 2, src["y"] + src["height"] / 2)
    page.mouse.down()
    y = dst["y"] + (dst["height"] * 0.8 if below else dst["height"] * 0.2)
    page.mouse.move(src["x"] + src["width"] / 2 + 5, src["y"] + src["height"] / 2 + 5, steps=5)
    page.mouse.move(dst["x"] + dst["width"] / 2, y, steps=20)
    page.wait_for_timeout(150)
    page.mouse.up()
