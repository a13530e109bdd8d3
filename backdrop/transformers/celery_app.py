"""Build the Celery app from Settings, so the write app and the worker agree on the broker.

Building an app connects to nothing and creates nothing: the filesystem broker's folders
are made by `ensure_broker_folders`, which the worker calls when it starts and the write
app's dispatcher before it sends its first task.

It also carries request ids with the work: a task published while a request id is bound
(a write request, or a task that is itself running for one) takes it in a message header,
and the worker binds it again while the task runs, so the task's log lines show the id of
the request that caused them, whoever queued the task. In a worker, Celery's log handlers
get Backdrop's format (logs.py) and, with BACKDROP_WORKER_METRICS_PORT, a metrics listener
starts.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from celery import Celery, signals

from backdrop import logs, metrics, request_id
from backdrop.settings import Settings

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "backdrop_request_id"


BROKER_SUBFOLDERS = ("out", "processed", "control")


def uses_broker_folder(settings: Settings) -> bool:
    return settings.broker_url.startswith("filesystem://")


def ensure_broker_folders(settings: Settings) -> None:
    """Create the filesystem broker's folders (kombu's transport expects them to exist)."""
    if uses_broker_folder(settings):
        for sub in BROKER_SUBFOLDERS:
            os.makedirs(os.path.join(settings.broker_folder, sub), exist_ok=True)


def broker_options(settings: Settings) -> dict:
    """Transport options: where kombu's filesystem transport keeps its messages."""
    if not uses_broker_folder(settings):
        return {}
    folder = settings.broker_folder
    queue = os.path.join(folder, "out")
    return {
        "data_folder_in": queue,
        "data_folder_out": queue,
        "processed_folder": os.path.join(folder, "processed"),
        "store_processed": False,
        "control_folder": os.path.join(folder, "control"),
    }


def broker_address(settings: Settings) -> str:
    """The broker URL, naming a host for the filesystem transport (which has none; kombu
    warns "No hostname was supplied" on every connection to a URL without one)."""
    if uses_broker_folder(settings) and settings.broker_url.rstrip("/") == "filesystem:":
        return "filesystem://localhost/"
    return settings.broker_url


def make_celery(settings: Settings) -> Celery:
    app = Celery("backdrop", broker=broker_address(settings))
    app.conf.update(
        broker_transport_options=broker_options(settings),
        task_default_queue=settings.task_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        # A write must not hang on a broker that is down: give up quickly, the caller logs it.
        broker_connection_timeout=2,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
    )
    _observe(app, settings)
    return app


def _observe(app: Celery, settings: Settings) -> None:
    """Connect the request-id, logging and metrics hooks (the first settings of a process win
    for logging, which Celery sets up once per process)."""
    signals.before_task_publish.connect(_publishing, weak=False, dispatch_uid="backdrop-request-id-publish")
    signals.task_prerun.connect(_task_starts, weak=False, dispatch_uid="backdrop-request-id-prerun")
    signals.task_postrun.connect(_task_ends, weak=False, dispatch_uid="backdrop-request-id-postrun")

    def dress_handlers(logger, **_) -> None:
        for handler in logger.handlers:
            logs.dress(handler, settings.log_format, "worker")

    signals.after_setup_logger.connect(dress_handlers, weak=False, dispatch_uid="backdrop-worker-logs")
    signals.after_setup_task_logger.connect(dress_handlers, weak=False, dispatch_uid="backdrop-worker-task-logs")

    def worker_starts(sender, **_) -> None:
        if sender.app is app and settings.worker_metrics_port:
            metrics.prepare_folder(Path(settings.metrics_folder) / f"worker-{settings.worker_metrics_port}")
            metrics.serve(settings.worker_metrics_port)

    def worker_ready(sender, **_) -> None:
        """Said once logging is set up (worker_init comes before it)."""
        if sender.app is app and settings.worker_metrics_port:
            log.info("metrics at http://127.0.0.1:%d%s", settings.worker_metrics_port, metrics.PATH)

    signals.worker_init.connect(worker_starts, weak=False)
    signals.worker_ready.connect(worker_ready, weak=False)


def _publishing(headers=None, **_) -> None:
    """A task sent while a request id is bound carries it (unless the sender set one)."""
    current = request_id.current()
    if headers is not None and current and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = current


_bound: dict[str, tuple] = {}


def _task_starts(task_id=None, task=None, args=None, **_) -> None:
    """Bind the id the task's message carries, and its data set (every task's first argument)."""
    data_set = args[0] if args and isinstance(args[0], str) else None
    _bound[task_id] = (request_id.bind(getattr(task.request, REQUEST_ID_HEADER, None)),
                       logs.bind_data_set(data_set))


def _task_ends(task_id=None, **_) -> None:
    tokens = _bound.pop(task_id, None)
    if tokens is not None:
        request_id.unbind(tokens[0])
        logs.unbind_data_set(tokens[1])
