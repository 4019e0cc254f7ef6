"""The sprint review as Markdown, CSV and JSON downloads."""

import csv
import io
import json
from typing import Any

from django.template.loader import render_to_string

CSV_COLUMNS = ["item", "title", "estimate", "customer", "segment", "annual_value", "channel", "received_at", "quote"]


def review_csv(review: dict[str, Any]) -> str:
    """One row per (completed item, feedback it answered); items without evidence get one empty row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for problem in review["problems_addressed"]:
        rows = problem["feedback"] or [{}]
        for fb in rows:
            row = [
                problem["key"],
                problem["title"],
                problem["estimate"],
                fb.get("customer", ""),
                fb.get("segment", ""),
                fb.get("annual_value", ""),
                fb.get("channel", ""),
                fb.get("received_at", ""),
                fb.get("quote", ""),
            ]
            # Every cell, not only the free-text ones: a frozen review is JSON from the past,
            # and a column that is safe today may carry user text tomorrow.
            writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value: Any) -> Any:
    # Spreadsheets run cells starting with these as formulas; a leading quote keeps them text.
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def review_json(review: dict[str, Any]) -> str:
    return json.dumps(review, indent=2, default=str)


def review_markdown(review: dict[str, Any]) -> str:
    return render_to_string("tracker/review.md", {"review": review})
