"""The Celery worker: `celery -A backdrop.transformers.worker worker -l info`.

Importing this module reads no configuration, opens nothing and creates nothing. Celery's
`-A` imports the module and then reads its `app` attribute (Celery 5 looks up a module
attribute and never calls a factory), so the module builds `app` on that first read, from
the environment, through `create_worker_app`. The worker's start-up (Celery's
`worker_init`, before it connects to the broker) opens the storage once and uses it, so a
database the code cannot use stops the worker with one line saying why, and creates the
filesystem broker's folders. Once the worker is ready it starts the outbox relay
(dispatch.RelayTimer): every transform request still unsent is sent at start-up and then
every BACKDROP_RELAY_INTERVAL seconds. The tasks themselves are in worker_tasks.py.
"""
from __future__ import annotations

import functools
from typing import Callable

from celery import Celery, signals

from backdrop.core.storage import check_url, open_storage
from backdrop.core.storage.base import Storage, StorageError
from backdrop.settings import Settings, SettingsError
from backdrop.transformers.celery_app import ensure_broker_folders, make_celery
from backdrop.transformers.dispatch import Relay, RelayTimer
from backdrop.transformers.worker_tasks import register_tasks


def storage_opener(settings: Settings) -> Callable[[], Storage]:
    """One engine per worker, opened on first call; the engines reconnect in forked children."""
    check_url(settings.database_url)
    return functools.cache(functools.partial(open_storage, settings.database_url, pool_size=settings.db_pool_size,
                                             auto_migrate=settings.auto_migrate))


def start_up(settings: Settings, storage: Callable[[], Storage]) -> None:
    """Open and use the storage once, then make the broker's folders; SystemExit if unusable.

    Without this, a database the code cannot use (unreachable, or of a schema this
    version refuses) would fail every task, five retries each, while the worker looks up.
    """
    try:
        storage().list_data_sets()
    except StorageError as error:
        raise SystemExit(f"backdrop worker: cannot use the database: {error}") from None
    ensure_broker_folders(settings)


def create_worker_app(settings: Settings, storage: Callable[[], Storage] | None = None) -> Celery:
    """The worker's Celery app with its tasks; `start_up` runs when a worker starts on it."""
    storage = storage or storage_opener(settings)
    app = make_celery(settings)
    register_tasks(app, storage, runs_kept=settings.transform_runs_kept)

    timer = RelayTimer(Relay(settings, storage), settings.relay_interval)

    def starting(sender, **_) -> None:
        if sender.app is app:
            start_up(settings, storage)

    def ready(sender, **_) -> None:
        if sender.app is app:
            timer.start()

    def stopping(sender, **_) -> None:
        if sender.app is app:
            timer.stop()

    signals.worker_init.connect(starting, weak=False)
    signals.worker_ready.connect(ready, weak=False)
    signals.worker_shutdown.connect(stopping, weak=False)
    return app


def __getattr__(name: str) -> Celery:
    """`app`, built from the environment when first read (by Celery's `-A`), then kept."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        app = create_worker_app(Settings.from_env())
    except (SettingsError, StorageError) as error:
        raise SystemExit(f"backdrop worker: {error}") from None
    globals()["app"] = app
    return app
