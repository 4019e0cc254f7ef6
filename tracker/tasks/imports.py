from celery import shared_task

from tracker.services.dispatch import record_done
from tracker.services.imports import import_run
from tracker.tasks.base import LoopwiseTask


@shared_task(base=LoopwiseTask, name="tracker.import_run_task")
def import_run_task(job_id: str, record_id: int | None = None) -> str:
    """Run (or resume) an import. Each batch commits with its checkpoint, so a re-delivered
    task continues after the last committed batch instead of importing rows twice."""
    job = import_run(job_id)
    record_done(record_id)
    return job.status
