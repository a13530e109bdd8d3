"""Build the Celery app from Settings, so the write app and the worker agree on the broker.

Building an app connects to nothing and creates nothing: the filesystem broker's folders
are made by `ensure_broker_folders`, which the worker calls when it starts and the write
app's dispatcher before it sends its first task.
"""
from __future__ import annotations

import os

from celery import Celery

from backdrop.settings import Settings


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


def make_celery(settings: Settings) -> Celery:
    app = Celery("backdrop", broker=settings.broker_url)
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
    return app
