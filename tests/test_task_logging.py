import logging

from config.celery import app
from tracker.tasks.base import LoopwiseTask


@app.task(base=LoopwiseTask, name="tests.always_fails_task")
def always_fails_task(item_id: str) -> None:
    raise ValueError(f"no such item {item_id}")


def test_a_failing_task_logs_its_name_id_and_arguments(caplog):
    with caplog.at_level(logging.ERROR, logger="loopwise.tasks"):
        # throw=False runs it as a worker would: the failure is recorded, not raised here.
        result = always_fails_task.apply(args=["SHOP-9"], task_id="fixed-task-id", throw=False)
    assert result.failed()
    (record,) = [r for r in caplog.records if r.name == "loopwise.tasks"]
    message = record.getMessage()
    assert "task=tests.always_fails_task" in message and "task_id=fixed-task-id" in message
    assert "args=['SHOP-9']" in message and "ValueError: no such item SHOP-9" in message
