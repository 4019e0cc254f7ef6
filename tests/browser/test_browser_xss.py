"""Every user text is inert in a real browser.

XSS payloads go in through the API and the services the way an importer, a customer or a
teammate would put them (item titles, descriptions and acceptance criteria through the
bulk upsert, comments, feedback titles and bodies, customer names, link quotes, sprint
names and goals, review-meeting feedback), then each page that shows them is loaded in
Chromium. A payload that ran would open a dialog, set `window.__xss`, leave an element or
attribute it injected, or trip the Content-Security-Policy (which only happens when markup
got through). None may happen.
"""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from rest_framework.test import APIClient

from tests import factories as f
from tracker import models as m
from tracker.services.backlog import item_update
from tracker.services.feedback import feedback_link
from tracker.services.sprints import sprint_add_items, sprint_create, sprint_start, sprint_update
from tracker.services.tokens import token_create
from tracker.web.markup import render_markdown

pytestmark = pytest.mark.browser

RUN = "window.__xss=1;alert(1)"
PAYLOADS = [
    f"<script>{RUN}</script>",
    f'<img src=x onerror="{RUN}">',
    f'<svg onload="{RUN}"></svg>',
    f"<svg><script>{RUN}</script></svg>",
    f'"><script>{RUN}</script>',
    f"'><img src=x onerror={RUN}>",
    f'" autofocus onfocus="{RUN}" x="',
    f"' onmouseover='{RUN}' x='",
    f"</textarea><script>{RUN}</script>",
    f"</title><script>{RUN}</script>",
    f"javascript:{RUN}",
    f"[click me](javascript:{RUN})",
    f"![pic](javascript:{RUN})",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    f'[t](https://ok.example "x\\" onmouseover=\\"{RUN}")',
    f'<a href="javascript:{RUN}">link</a>',
    f'<iframe src="javascript:{RUN}"></iframe>',
    f'<details open ontoggle="{RUN}">d</details>',
    f"<<script>script>{RUN}<</script>/script>",
    f'<math><mtext><table><mglyph><style><img src=x onerror="{RUN}">',
    f'<div style="background:url(javascript:{RUN})">s</div>',
    "{{ 7|add:7 }}{% now 'Y' %}",
]
# Markers of markup that got through: any of these in the DOM means a payload was parsed.
INJECTED = (
    "[onerror], [onload], [onfocus], [onmouseover], [ontoggle], iframe, object, embed, "
    "a[href^='javascript:' i], a[href^='data:' i], img[src^='javascript:' i], details[open][ontoggle], "
    "script:not([src])"
)
PAGES = [
    "",
    "SHOP/backlog/",
    "SHOP/backlog/?kind=all&status=all",
    "SHOP/items/1/",
    "SHOP/items/2/",
    "SHOP/board/",
    "SHOP/planning/",
    "SHOP/sprints/1/review/",
    "inbox/?triage=all",
    "reports/",
]


def seed(workspace, project, olivia):
    """Payloads in every place a user can type, through the API and the services."""
    secret = token_create(workspace=workspace, user=olivia).secret
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    base = f"/api/v1/workspaces/{workspace.slug}"
    entries = [
        {
            "source": "csv",
            "external_id": f"X-{n}",
            "title": payload[:200],
            "description": payload,
            "acceptance_criteria": payload,
            "estimate": "1",
        }
        for n, payload in enumerate(PAYLOADS)
    ]
    assert api.post(f"{base}/projects/SHOP/items/bulk/", {"items": entries}, format="json").status_code == 200
    for payload in PAYLOADS:
        assert api.post(f"{base}/projects/SHOP/items/1/comments/", {"body": payload}, format="json").status_code == 201
    items = list(m.BacklogItem.objects.filter(project=project).order_by("number"))
    feedback_ids = []
    for n, payload in enumerate(PAYLOADS):
        customer = api.post(
            f"{base}/customers/", {"name": payload[:200], "email": f"c{n}@example.com"}, format="json"
        ).json()
        response = api.post(
            f"{base}/feedback/",
            {"title": payload[:200], "body": payload, "customer": customer["id"], "nps": 3},
            format="json",
        )
        assert response.status_code == 201, response.content
        feedback_ids.append(response.json()["id"])
    for n, item in enumerate(items):
        feedback = m.Feedback.objects.get(pk=feedback_ids[n])
        feedback_link(feedback=feedback, item=item, actor=olivia, quote=PAYLOADS[n])
    sprint = sprint_create(project=project, actor=olivia, name=PAYLOADS[0][:100], capacity=100)
    sprint_update(sprint=sprint, actor=olivia, goal=PAYLOADS[1])
    sprint_add_items(sprint=sprint, items=items, actor=olivia)
    sprint_start(sprint=sprint, actor=olivia)
    for item in items[: len(items) // 2]:
        item.refresh_from_db()
        item_update(item=item, actor=olivia, status=m.ItemStatus.DONE)
    f.SprintFactory(project=project, number=2, name=PAYLOADS[4][:100], goal=PAYLOADS[5])
    return feedback_ids


def test_xss_payloads_stay_inert_on_every_page(logged_in, page, team, live_server):
    workspace, project, olivia = team
    feedback_ids = seed(workspace, project, olivia)
    customer_id = m.Feedback.objects.get(pk=feedback_ids[1]).customer_id
    dialogs, violations = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    paths = [*PAGES, f"customers/{customer_id}/", f"inbox/?triage=all&selected={feedback_ids[2]}"]
    for path in paths:
        logged_in(path)
        page.mouse.move(200, 200)
        page.mouse.move(600, 400)
        assert page.evaluate("window.__xss") is None, path
        injected = page.evaluate(f"Array.from(document.querySelectorAll({INJECTED!r})).map(e => e.outerHTML)")
        assert injected == [], (path, injected)
        text = page.locator("body").inner_text()
        if path not in ("reports/", ""):
            assert "window.__xss" in text, f"{path} should show the payloads as text"
        assert "14" + "2026" not in text, path  # template syntax in data is never evaluated
    # Fragments that htmx swaps in: the item picker and the feedback picker.
    for fragment in ("inbox/items/?q=script", "inbox/feedback/?q=script", f"inbox/{feedback_ids[3]}/"):
        logged_in(fragment)
        assert page.evaluate("window.__xss") is None, fragment
    # Review-meeting capture on the spot, through the real form.
    logged_in("SHOP/sprints/1/review/")
    page.fill("#id_customer_name", PAYLOADS[1][:200])
    page.fill("#id_body", PAYLOADS[0])
    page.locator("#capture button[type=submit], form[action$='/review/feedback/'] button[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    logged_in(f"inbox/?triage=all&q={'script'}")
    assert page.evaluate("window.__xss") is None
    assert dialogs == [], dialogs
    assert violations == [], violations
    # The text is shown, as text.
    logged_in("SHOP/items/1/")
    assert "<script>" in page.locator("main").inner_text()


def test_markdown_is_sanitised_with_safe_links():
    html = render_markdown(
        "[ok](https://example.com) [bad](javascript:alert(1)) ![img](javascript:alert(1)) "
        "<script>alert(1)</script> <img src=x onerror=alert(1)> [d](data:text/html,hi) "
        '[v](vbscript:msgbox) <a href="https://example.com" onclick="x()">a</a> <svg onload=alert(1)>'
    )
    assert 'href="https://example.com"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    lowered = html.lower()
    for bad in ("javascript:", "vbscript:", "data:text/html", "<script", "onerror", "onclick", "onload", "<svg"):
        assert bad not in lowered, (bad, html)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_output_of_each_payload_has_no_active_content(payload):
    parser = _Elements()
    parser.feed(str(render_markdown(payload)))
    for tag, attrs in parser.found:
        assert tag not in ("script", "iframe", "svg", "math", "style", "object", "embed"), (payload, tag)
        assert not [name for name in attrs if name.startswith("on")], (payload, tag, attrs)
        for name in ("href", "src"):
            if attrs.get(name):
                assert attrs[name].split(":", 1)[0].lower() in ("http", "https", "mailto") or ":" not in attrs[name]


def test_counts():
    assert len(PAYLOADS) >= 20
    assert Decimal(len(PAYLOADS))  # reported in docs/security.md
