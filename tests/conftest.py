"""Shared fixtures. Tests that need PostgreSQL, Redis or Chromium skip with a reason on a
developer's machine that lacks them, and fail under CI=true, where they must run."""

import os
import socket
from pathlib import Path

import pytest
from django.db import connection

from tests import factories as f
from tracker import models as m

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright keeps an event loop running

IN_CI = os.environ.get("CI", "").lower() == "true"
DATA_DIR = Path(os.environ.get("LOOPWISE_DATA_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def need(condition: bool, reason: str) -> None:
    """Skip with `reason` unless `condition`; under CI=true a missing service fails instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"Required under CI=true: {reason}")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def on_postgres() -> None:
    """For tests of PostgreSQL behaviour (row locks, concurrency). The SQLite pass skips them;
    the PostgreSQL pass of .ci/run runs them."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only behaviour; runs in the pass with DATABASE_URL=postgres://…")


@pytest.fixture
def data_dir() -> Path:
    need(DATA_DIR.is_dir(), f"the shared data folder {DATA_DIR} is absent (set LOOPWISE_DATA_DIR)")
    return DATA_DIR


@pytest.fixture
def workspace(db) -> m.Workspace:
    return f.WorkspaceFactory(slug="acme-test", name="Acme Test")


@pytest.fixture
def project(workspace) -> m.Project:
    return f.ProjectFactory(workspace=workspace, key="SHOP", name="Shop")


@pytest.fixture
def owner(workspace):
    user = f.UserFactory(username="owner")
    f.MembershipFactory(workspace=workspace, user=user, role=m.WorkspaceRole.OWNER)
    return user


@pytest.fixture
def po(workspace, project):
    user = f.UserFactory(username="po")
    f.MembershipFactory(workspace=workspace, user=user)
    f.ProjectMembershipFactory(project=project, user=user, role=m.ProjectRole.PRODUCT_OWNER)
    return user


@pytest.fixture
def other_workspace(db) -> m.Workspace:
    return f.WorkspaceFactory(slug="globex-test", name="Globex Test")
