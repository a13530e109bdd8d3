"""gunicorn's settings for start-app.sh (`-c python:backdrop.gunicorn_config`): worker, logger, metrics.

The worker is gthread's threads with deadlines on reading a request (gunicorn_worker.py),
so that slow or stalled clients cannot take every thread; BACKDROP_WEB_THREADS threads per
worker process, set when the master starts (importing this module reads no setting).
A thread busy with a long query does not stop its process from telling the master it is
alive, so `timeout` no longer kills a worker mid-request: the query limits and statement
timeouts bound requests instead.

The master makes the app's metrics folder (BACKDROP_METRICS_FOLDER/backdrop-APP-PORT),
emptied so that counts of an earlier run do not add to this one's, before it forks any
worker: each worker then writes its metric files there and `/_metrics` adds them all up.
A worker that exits is marked dead so its files stop counting as a live process's.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from backdrop import metrics
from backdrop.settings import Settings

logger_class = "backdrop.access_log.RedactingLogger"
# The time, level and request id come from Backdrop's log format (logs.py).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# gunicorn 27's control socket has one path per user by default, so the read and the write
# app would take it from each other; Backdrop does not use it (older gunicorns ignore this).
control_socket_disable = True

worker_class = "backdrop.gunicorn_worker.Worker"
timeout = 30  # seconds a worker process may go silent (hung as a whole) before the master replaces it
graceful_timeout = 30  # seconds a stopping worker has to finish the requests it holds
keepalive = 5  # seconds an idle kept-alive connection is held open (in the poller, not on a thread)


def metrics_folder(server) -> Path:
    port = server.cfg.bind[0].rsplit(":", 1)[-1]
    return Path(Settings.from_env().metrics_folder) / f"{server.proc_name}-{port}"


def on_starting(server) -> None:
    server.cfg.set("threads", Settings.from_env().web_threads)
    metrics.prepare_folder(metrics_folder(server))


def child_exit(server, worker) -> None:
    metrics.process_ended(worker.pid)


def on_exit(server) -> None:
    shutil.rmtree(metrics_folder(server), ignore_errors=True)
