"""Similarity suggestions: likely duplicates among open feedback, and the backlog items a
feedback probably asks for.

Method (no model downloads, same code on SQLite and PostgreSQL): a term index. Text is cut
into lower-case words, stop words dropped and a light suffix stemmer applied. Each
document (feedback or item) gets one TermPosting row per distinct term with a
length-normalised weight (1 + ln tf) / ‖doc‖; TermStat keeps each term's document
frequency per workspace (the row with term "" counts the documents). A query keeps its
rarest informative terms (IDF cut-off: terms in more than MAX_DF_RATIO of the documents, or
with more than MAX_DF_POSTINGS postings, say little and cost many rows) and ranks documents by Σ idf² · w_query · w_doc in one grouped
SQL query over the postings index, so the cost follows the postings of a dozen fairly rare
terms, not the size of the workspace.
"""

import functools
import math
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, F, FloatField, Sum, Value, When

from tracker.models import (
    BacklogItem,
    Feedback,
    LoopState,
    Suggestion,
    SuggestionKind,
    TermPosting,
    TermStat,
    TriageState,
)

TOP_DUPLICATES = 5
TOP_ITEMS = 5
QUERY_TERMS = 14
MAX_DF_RATIO = 0.08
# …and never terms with more postings than this: the query's cost is the postings it sums,
# so this bounds latency in a large workspace (200,000 feedback: terms in > 2% are dropped).
MAX_DF_POSTINGS = 4000
MIN_DOCS_FOR_CUTOFF = 200
MIN_SCORE = 0.08
CANDIDATES = 60
DOC_TERMS = 64
ITEM_TEXT = 3000

STOP_WORDS = frozenset(
    """a about above after again against all also am an and any app apps are aren as at be because been before
    being below between both but by can cannot could did didn do does doesn doing don down during each even ever
    every few for from further get gets got had has have having he her here hers herself him himself his how i
    if in into is isn it its itself just let ll me more most much my myself no nor not now of off on once only or
    other our ours ourselves out over own please really re same she should so some such than thank thanks that the
    their theirs them themselves then there these they this those through to too under until up us use used using
    ve very via want was we were what when where which while who whom why will with won would you your yours
    yourself yourselves one two get still like just thing things way lot""".split()
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def stem(word: str) -> str:
    """A light suffix stemmer: crashes/crashing/crashed → crash, loading → load."""
    for suffix, keep in (("ing", 4), ("edly", 4), ("ed", 4), ("ies", 3), ("es", 4), ("ly", 4), ("s", 4)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep - 1:
            base = word[: -len(suffix)]
            if suffix == "ies":
                return base + "y"
            if suffix == "s" and base.endswith("s"):
                return word
            if len(base) >= 3:
                return base
    return word


@functools.lru_cache(maxsize=100_000)
def term(word: str) -> str | None:
    """The index term of one lower-case word, or None for a word that is not indexed.

    Cached: a workspace's words repeat (under the profiler, an import of 20,000 feedback
    spent a tenth of its time stemming the same words again)."""
    if len(word) < 3 and not word.isdigit():
        return None
    if word in STOP_WORDS or len(word) > 40:
        return None
    return stem(word)


def terms(text: str) -> Counter[str]:
    """The index terms of a text with their counts."""
    return Counter([t for raw in _WORD.findall((text or "").lower()) if (t := term(raw)) is not None])


def weights(counts: Counter[str]) -> dict[str, float]:
    """(1 + ln tf) per term, normalised to unit length; the DOC_TERMS most frequent only."""
    top = counts.most_common(DOC_TERMS)
    raw = {t: 1.0 + math.log(n) for t, n in top}
    norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
    return {t: v / norm for t, v in raw.items()}


def feedback_text(feedback: Feedback) -> str:
    return f"{feedback.title}\n{feedback.body}"


def item_text(item: BacklogItem) -> str:
    # The title says what the item is; count it twice against a long description.
    return f"{item.title}\n{item.title}\n{(item.description or '')[:ITEM_TEXT]}"


# --- Indexing ------------------------------------------------------------------------------


def _df_add(workspace_id: Any, deltas: Counter[str]) -> None:
    """Add to the document frequencies in one statement per 500 terms.

    INSERT … ON CONFLICT DO UPDATE is the same SQL on SQLite (3.24+) and PostgreSQL and is
    atomic per row, so concurrent indexers never lose a count. Terms go in sorted order so
    two transactions lock the same rows in the same order (no deadlock).
    """
    items = sorted((t, n) for t, n in deltas.items() if n)
    table = TermStat._meta.db_table
    ws: Any = uuid.UUID(str(workspace_id))
    if connection.vendor == "sqlite":
        ws = ws.hex  # how Django stores a UUIDField there
    with connection.cursor() as cursor:
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            params: list[Any] = []
            for term, n in chunk:
                params += [ws, term, n]
            cursor.execute(
                f"INSERT INTO {table} (workspace_id, term, df) VALUES {values} "  # noqa: S608 - no user input in SQL
                f"ON CONFLICT (workspace_id, term) DO UPDATE SET df = {table}.df + excluded.df",
                params,
            )


def _index(workspace_id: Any, docs: Sequence[tuple[str, Any, str]], *, fresh: bool = False) -> None:
    """(kind "feedback"|"item", id, text) → postings and document frequencies. Replaces any
    earlier index of these documents, unless `fresh` says they were just created (an
    import's new rows), which saves a lookup per batch."""
    removed: Counter[str] = Counter()
    if not fresh:
        feedback_ids = [doc_id for kind, doc_id, _ in docs if kind == "feedback"]
        item_ids = [doc_id for kind, doc_id, _ in docs if kind == "item"]
        for ids, column in ((feedback_ids, "feedback_id"), (item_ids, "item_id")):
            if not ids:
                continue
            old = TermPosting.objects.filter(**{f"{column}__in": ids})
            old_docs: set[Any] = set()
            for term, doc_id in old.values_list("term", column):
                removed[term] -= 1
                old_docs.add(doc_id)
            if old_docs:
                old.delete()
                removed[""] -= len(old_docs)
    rows: list[tuple[Any, str, Any, Any, float]] = []
    added: Counter[str] = Counter()
    ws = uuid.UUID(str(workspace_id))
    for kind, doc_id, text in docs:
        w = weights(terms(text))
        if not w:
            continue
        added[""] += 1
        for term, weight in w.items():
            added[term] += 1
            rows.append((ws, term, doc_id if kind == "feedback" else None, doc_id if kind == "item" else None, weight))
    _insert_postings(rows)
    added.update(removed)
    _df_add(workspace_id, added)


NULL = "\\N"  # NULL in COPY's text format


def _insert_postings(rows: list[tuple[Any, str, Any, Any, float]]) -> None:
    """Write postings without building model instances: an import writes ~15 per row.

    PostgreSQL gets COPY (an order of magnitude faster than INSERT for this volume);
    elsewhere a plain executemany.
    """
    if not rows:
        return
    table = TermPosting._meta.db_table
    columns = "workspace_id, term, feedback_id, item_id, weight"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY's text format written directly: psycopg's write_row per posting was 2 s of
            # a 20,000-row import under the profiler. UUIDs and floats print as PostgreSQL
            # reads them, and a term is made of word characters only (`_WORD`), so nothing
            # needs escaping.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # noqa: S608 - constant
                for start in range(0, len(rows), 5000):
                    copy.write(
                        "".join(
                            f"{ws}\t{t}\t{NULL if f is None else f}\t{NULL if i is None else i}\t{w!r}\n"
                            for ws, t, f, i, w in rows[start : start + 5000]
                        )
                    )
            return

        def value(v: Any) -> Any:
            return v.hex if isinstance(v, uuid.UUID) else v

        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608 - constant
            [(value(a), b, value(c), value(d), e) for a, b, c, d, e in rows],
        )


def feedback_index(feedback: Iterable[Feedback], *, fresh: bool = False) -> None:
    """Index (or re-index) these feedback of one workspace; `fresh`: never indexed before."""
    rows = list(feedback)
    if rows:
        _index(rows[0].workspace_id, [("feedback", f.pk, feedback_text(f)) for f in rows], fresh=fresh)


def items_index(items: Iterable[BacklogItem], *, workspace_id: Any, fresh: bool = False) -> None:
    rows = list(items)
    if rows:
        _index(workspace_id, [("item", i.pk, item_text(i)) for i in rows], fresh=fresh)


@transaction.atomic
def workspace_reindex(*, workspace_id: Any, batch: int = 2000) -> int:
    """Rebuild a workspace's index from scratch (after a bulk load such as the demo seeder).

    The similarity consumer of the change feed then starts after the last change that was
    final when the rebuild began: what the rebuild read covers it (changes committed during
    the rebuild come again, and indexing them twice changes nothing)."""
    from tracker.feed.consumers import consumer_advance, feed_head

    head = feed_head(workspace_id)
    TermPosting.objects.filter(workspace_id=workspace_id).delete()
    TermStat.objects.filter(workspace_id=workspace_id).delete()
    count = 0
    fb = Feedback.objects.filter(workspace_id=workspace_id).only("pk", "workspace_id", "title", "body")
    items = BacklogItem.objects.filter(project__workspace_id=workspace_id, deleted_at__isnull=True).only(
        "pk", "title", "description"
    )
    for kind, qs, text in (("feedback", fb, feedback_text), ("item", items, item_text)):
        docs: list[tuple[str, Any, str]] = []
        for obj in qs.iterator(chunk_size=batch):
            docs.append((kind, obj.pk, text(obj)))
            if len(docs) >= batch:
                _index(workspace_id, docs, fresh=True)
                count += len(docs)
                docs = []
        _index(workspace_id, docs, fresh=True)
        count += len(docs)
    consumer_advance("similarity", workspace_id, head)
    return count


# --- Querying ------------------------------------------------------------------------------


def query_weights(workspace_id: Any, text: str) -> dict[str, float]:
    """The query's kept terms with idf² · w_query (one query for the frequencies)."""
    w = weights(terms(text))
    if not w:
        return {}
    stats = dict(TermStat.objects.filter(workspace_id=workspace_id, term__in=[*w, ""]).values_list("term", "df"))
    n_docs = max(stats.pop("", 0), 1)
    scored = []
    for term, weight in w.items():
        df = stats.get(term, 0)
        if df <= 0:
            continue
        idf = math.log(1 + n_docs / df)
        scored.append((df, term, weight * idf * idf))
    scored.sort()
    if n_docs >= MIN_DOCS_FOR_CUTOFF:
        limit = min(MAX_DF_RATIO * n_docs, MAX_DF_POSTINGS)
        informative = [s for s in scored if s[0] <= limit]
        # Only common words? Keep the two rarest anyway rather than finding nothing.
        scored = informative or scored[:2]
    return {term: qw for _df, term, qw in scored[:QUERY_TERMS]}


def rank(workspace_id: Any, qw: dict[str, float], *, limit: int = CANDIDATES) -> list[tuple[str, Any, float]]:
    """Documents sharing the query's terms, best first: [(kind, id, score 0..1)]."""
    if not qw:
        return []
    self_score = sum(qw.values()) or 1.0
    term_weight = Case(*[When(term=t, then=Value(v)) for t, v in qw.items()], output_field=FloatField())
    rows = (
        TermPosting.objects.filter(workspace_id=workspace_id, term__in=list(qw))
        .values("feedback_id", "item_id")
        .annotate(score=Sum(F("weight") * term_weight))
        .order_by("-score")[:limit]
    )
    # The query's own weights are unit-normalised too, so a document identical to the
    # query scores about Σ idf²·w² ≤ Σ idf²·w; dividing by the latter keeps scores ≤ 1.
    out = []
    for row in rows:
        if row["feedback_id"] is not None:
            out.append(("feedback", row["feedback_id"], row["score"] / self_score))
        else:
            out.append(("item", row["item_id"], row["score"] / self_score))
    return out


def similar_to_text(workspace_id: Any, text: str, *, limit: int = CANDIDATES) -> list[tuple[str, Any, float]]:
    return rank(workspace_id, query_weights(workspace_id, text), limit=limit)


OPEN_TRIAGE = (TriageState.NEW, TriageState.ACCEPTED)


def suggestions_compute(feedback: Feedback) -> list[Suggestion]:
    """Unsaved suggestions for this feedback: open feedback that looks the same, and live
    backlog items it probably asks for."""
    ranked = [
        r
        for r in similar_to_text(feedback.workspace_id, feedback_text(feedback))
        if r[2] >= MIN_SCORE and r[1] != feedback.pk
    ]
    fb_scores = {doc_id: score for kind, doc_id, score in ranked if kind == "feedback"}
    item_scores = {doc_id: score for kind, doc_id, score in ranked if kind == "item"}
    open_fb = set(
        Feedback.objects.filter(pk__in=list(fb_scores), triage__in=OPEN_TRIAGE)
        .exclude(loop_state=LoopState.CLOSED)
        .values_list("pk", flat=True)
    )
    live_items = set(
        BacklogItem.objects.filter(pk__in=list(item_scores), deleted_at__isnull=True).values_list("pk", flat=True)
    )
    duplicates = sorted(((s, pk) for pk, s in fb_scores.items() if pk in open_fb), reverse=True)[:TOP_DUPLICATES]
    items = sorted(((s, pk) for pk, s in item_scores.items() if pk in live_items), reverse=True)[:TOP_ITEMS]
    return [
        *(
            Suggestion(feedback=feedback, kind=SuggestionKind.DUPLICATE, similar_feedback_id=pk, score=round(s, 4))
            for s, pk in duplicates
        ),
        *(Suggestion(feedback=feedback, kind=SuggestionKind.ITEM, item_id=pk, score=round(s, 4)) for s, pk in items),
    ]


def suggestions_store(feedback: Sequence[Feedback]) -> int:
    """Compute and store the suggestions of these (indexed) feedback, replacing earlier ones."""
    found = [s for fb in feedback for s in suggestions_compute(fb)]
    Suggestion.objects.filter(feedback__in=[fb.pk for fb in feedback]).delete()
    Suggestion.objects.bulk_create(found, batch_size=1000)
    return len(found)


def suggestions_refresh(feedback_id: Any) -> list[Suggestion]:
    """Index the feedback and replace its stored suggestions (what the task runs)."""
    feedback = Feedback.objects.filter(pk=feedback_id).first()
    if feedback is None:
        return []  # deleted meanwhile: nothing to suggest
    with transaction.atomic():
        feedback_index([feedback])
        found = suggestions_compute(feedback)
        Suggestion.objects.filter(feedback=feedback).delete()
        return Suggestion.objects.bulk_create(found)


def suggestions_rebuild(*, workspace_id: Any, limit: int | None = None) -> int:
    """Recompute the stored suggestions of the workspace's untriaged feedback, newest first
    (after a bulk load and `workspace_reindex`, which fill the index but store none).
    One ranking query per feedback: `limit` bounds the work in a large workspace."""
    feedback = Feedback.objects.filter(workspace_id=workspace_id, triage=TriageState.NEW).order_by("-received_at")
    done = 0
    for fb in feedback[:limit].iterator() if limit else feedback.iterator():
        with transaction.atomic():
            found = suggestions_compute(fb)
            Suggestion.objects.filter(feedback=fb).delete()
            Suggestion.objects.bulk_create(found)
        done += 1
    return done


def suggestions_for(feedback: Feedback) -> dict[str, list[Suggestion]]:
    """The stored suggestions, best first: {"duplicates": [...], "items": [...]}, with the
    similar feedback and items loaded (two queries)."""
    rows = list(
        Suggestion.objects.filter(feedback=feedback)
        .select_related("similar_feedback__customer", "item__project")
        .order_by("-score")
    )
    return {
        "duplicates": [s for s in rows if s.kind == SuggestionKind.DUPLICATE],
        "items": [s for s in rows if s.kind == SuggestionKind.ITEM],
    }


def items_index_by_id(item_ids: Iterable[Any]) -> None:
    """(Re-)index these items; deleted ones are dropped from the index."""
    items = list(
        BacklogItem.objects.filter(pk__in=list(item_ids))
        .select_related("project")
        .only("pk", "title", "description", "deleted_at", "project__workspace_id")
    )
    by_workspace: dict[Any, list[tuple[str, Any, str]]] = {}
    for item in items:
        text = item_text(item) if item.deleted_at is None else ""
        by_workspace.setdefault(item.project.workspace_id, []).append(("item", item.pk, text))
    for workspace_id, docs in by_workspace.items():
        _index(workspace_id, docs)
