"""Precision@3 of similarity suggestions on the labelled app reviews.

Two reviews are relevant to each other when they share a problem category. Every labelled
review is indexed; for each, the three most similar other labelled reviews are retrieved
and precision@3 is the share of them that share a category, averaged over the queries
that found at least one neighbour. The baseline is what three random labelled reviews
would score.

Run: .venv/bin/python bench/similarity_eval.py [path/to/app-reviews-labelled.jsonl]
(needs a migrated database; it works in a throwaway workspace and deletes it).
"""

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def load_labelled(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open() as handle:
        for line in handle:
            record = json.loads(line)
            categories = {label[2] for label in record["label"]}
            if categories and record["text"].strip():
                rows.append({"id": record["reviewId"], "text": record["text"], "categories": categories})
    return rows


def baseline(rows: list[dict[str, Any]]) -> float:
    """Expected precision of a random pick: P(a random other review shares a category)."""
    counts = Counter(frozenset(r["categories"]) for r in rows)
    total = len(rows)
    score = 0.0
    for cats, n in counts.items():
        share = sum(m for other, m in counts.items() if other & cats) - 1
        score += n * share / (total - 1)
    return score / total


def precision_at_3(workspace: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Index the rows as feedback of `workspace` and measure precision@3."""
    from django.utils import timezone

    from tracker.models import Feedback
    from tracker.services.similarity import feedback_index, feedback_text, similar_to_text

    now = timezone.now()
    objs = Feedback.objects.bulk_create(
        [
            Feedback(workspace=workspace, body=r["text"], received_at=now, source="eval", external_id=r["id"])
            for r in rows
        ]
    )
    feedback_index(objs, fresh=True)
    categories = {obj.pk: r["categories"] for obj, r in zip(objs, rows, strict=True)}
    hits = 0
    retrieved = 0
    answered = 0
    for obj in objs:
        found = [
            doc_id
            for kind, doc_id, _score in similar_to_text(workspace.pk, feedback_text(obj), limit=4)
            if kind == "feedback" and doc_id != obj.pk
        ][:3]
        if not found:
            continue
        answered += 1
        retrieved += len(found)
        hits += sum(1 for doc_id in found if categories[doc_id] & categories[obj.pk])
    return {
        "queries": len(objs),
        "answered": answered,
        "precision_at_3": round(hits / retrieved, 3) if retrieved else 0.0,
        "baseline": round(baseline(rows), 3),
    }


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from tracker.models import Workspace

    default = Path(os.environ.get("LOOPWISE_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default / "app-reviews-labelled.jsonl"
    rows = load_labelled(path)
    workspace = Workspace.objects.create(slug="similarity-eval", name="Similarity eval")
    try:
        result = precision_at_3(workspace, rows)
    finally:
        workspace.delete()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
