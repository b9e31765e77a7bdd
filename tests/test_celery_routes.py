"""Which queue each task goes to: fits to `training` (which extra machines serve), bookkeeping to `default`."""

import pytest

from goldsite.celery import app


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("training.training_fit_execute", "training"),
        # Recording a round and sending the next must not wait behind the other candidates' fits.
        ("training.training_round_complete", "default"),
        ("training.training_run_execute", "default"),
        ("training.training_runs_reap", "default"),
        ("training.training_run_start_scheduled", "default"),
        ("forecasts.predict_next_day", "default"),
    ],
)
def test_each_task_goes_to_its_queue(task_name, queue):
    assert queue_of(task_name) == queue
