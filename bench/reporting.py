"""The Markdown table `make bench` prints and writes to docs/performance.md."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
from pathlib import Path

from bench.harness import Result


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = (
        int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        // 1024
        // 1024
    )
    pg = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "show server_version"], capture_output=True, text=True
    ).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, PostgreSQL {pg}, Python {platform.python_version()}, gunicorn 2 sync workers, wrk on the same machine"


def data_sizes() -> str:
    from tracker.models import BacklogItem, Customer, Feedback, FeedbackLink, Sprint, SprintState

    acme = {"workspace__slug": "acme"}
    return ", ".join(
        f"{n:,} {label}"
        for n, label in (
            (BacklogItem.objects.filter(project__workspace__slug="acme").count(), "items"),
            (Feedback.objects.filter(**acme).count(), "feedback"),
            (Customer.objects.filter(**acme).count(), "customers"),
            (FeedbackLink.objects.filter(**acme).count(), "feedback links"),
            (
                Sprint.objects.filter(project__workspace__slug="acme", state=SprintState.CLOSED).count(),
                "closed sprints",
            ),
        )
    )


def build_line(timings: dict[str, float]) -> str:
    total = timings.get("migrate", 0) + timings.get("seed", 0) + timings.get("reindex", 0)
    reused = " (this run reused it)" if timings.get("reused") else ""
    return (
        f"Build{reused}: {total / 60:.1f} min — migrate {timings.get('migrate', 0):.0f} s, `seed_demo` "
        f"{timings.get('seed', 0):.0f} s, `similarity_reindex` of the 200,000 feedback {timings.get('reindex', 0):.0f} s."
    )


# Everything below this line in docs/performance.md is written by hand and kept by each run.
NOTES_MARKER = "<!-- Written by hand below; `make bench` rewrites only what is above. -->"


def fmt(value: float | None, pattern: str) -> str:
    return "—" if value is None else pattern.format(value)


def report(results: list[Result], args: argparse.Namespace) -> str:
    lines = [
        "# Performance",
        "",
        f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}.",
        f"Data: `seed_demo --scale {args.scale}` ({args.sizes}). {build_line(args.timings)}",
        f"Load: wrk, {args.connections} connections, {args.duration} s per scenario, over loopback. Ratios are throughput "
        "divided by the ceiling's throughput in the same run; the ceiling is a bare Django view returning 100 rows from one "
        "indexed query, served the same way. Reproduce with `make bench`.",
        "",
        "| scenario | budget | req/s | ratio | p50 ms | p95 ms | queries | result | notes |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        verdict = "—" if r.passed is None else ("met" if r.passed else "**missed**")
        lines.append(
            f"| {r.name} | {r.budget} | {fmt(r.rps, '{:,.0f}')} | {fmt(r.ratio, '{:.2f}')} | {fmt(r.p50, '{:.1f}')} | "
            f"{fmt(r.p95, '{:.1f}')} | {r.extra.get('queries', '—')} | {verdict} | {r.detail} |"
        )
    return "\n".join(lines) + "\n"
