"""Helpers shared by the background-work tests."""

import http.server
import json
import threading
from contextlib import contextmanager

from tests import factories as f
from tracker import models as m


class Receiver:
    """A local HTTP server that records webhook posts and answers with queued status codes."""

    def __init__(self, statuses=(200,)) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                if isinstance(status, tuple):
                    status, location = status
                    self.send_response(status)
                    self.send_header("Location", location)
                else:
                    self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"ok": status == 200}).encode())

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def webhook(workspace, url, *, events=(), allow_private=True, secret="s3cret") -> m.Webhook:  # noqa: S107
    return m.Webhook.objects.create(
        workspace=workspace, url=url, secret=secret, events=list(events), allow_private=allow_private
    )


@contextmanager
def broker(app, url):
    """Point the Celery app at `url` (a real broker) for the duration."""
    from tracker.services.dispatch import broker_ok

    saved = {k: app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    _reset_pools(app)
    broker_ok()  # a new broker: forget that the last one failed
    try:
        yield app
    finally:
        app.conf.update(saved)
        _reset_pools(app)
        broker_ok()


def _reset_pools(app) -> None:
    # The app caches broker connections per URL; drop them so the new URL is used.
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    try:
        del app.backend
    except AttributeError:
        pass
    app._local.__dict__.pop("backend", None)


def customer(workspace, email="ann@example.com", name="Ann"):
    return f.CustomerFactory(workspace=workspace, email=email, name=name)


def consume(*workspaces) -> None:
    """Run the change feed's consumers of these workspaces now (after commit they run by
    themselves; inside a test's transaction, call this)."""
    from tracker.feed.consumers import consumers_run

    for workspace in workspaces:
        consumers_run(workspace.pk)
