"""What the benchmarks and the load test share: the production-like environment they serve
the app in, and a gunicorn server on loopback that starts and stops with a `with` block."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# Production settings (DEBUG off) plus the ceiling URL; see bench/settings.py.
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-that-is-long-and-random-enough-4f9a8b7c6d5e",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "CONN_MAX_AGE": "600",
}


@dataclass
class Result:
    """One row of a benchmark table."""

    name: str
    budget: str
    rps: float | None = None
    p50: float | None = None
    p95: float | None = None
    ratio: float | None = None
    passed: bool | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """gunicorn serving the app on 127.0.0.1, stopped on exit."""

    def __init__(
        self,
        db_url: str,
        *,
        port: int | None = None,
        worker_args: Sequence[str] = ("-w", "2", "-k", "sync"),
        env: dict[str, str] | None = None,
        timeout: int = 120,
        collectstatic: bool = False,
    ) -> None:
        self.env = {**os.environ, **SERVER_ENV, **(env or {}), "DATABASE_URL": db_url}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [*worker_args, "--timeout", str(timeout)]
        self.collectstatic = collectstatic
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        if self.collectstatic:
            subprocess.run(
                [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True
            )
        gunicorn = str(Path(PYTHON).parent / "gunicorn")
        self.proc = subprocess.Popen(
            [gunicorn, "config.wsgi:application", *self.args, "-b", f"127.0.0.1:{self.port}", "--log-level", "warning"],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):  # noqa: S310 - loopback only
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not come up")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
