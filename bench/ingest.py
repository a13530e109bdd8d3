"""Loading records over real HTTP: data-set creation, then concurrent batched POSTs.

Every client is a thread with its own `requests` session, taking the next batch from a
shared counter, so the load stays even however long each batch takes. The bodies are
encoded before the clock starts; the client's own CPU time and the write workers' CPU time
are reported beside the rate, so one can tell whether the client or the server was the
bottleneck on a machine they share.
"""
from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

import requests

from bench import procfs, stats
from bench.servers import ADMIN_TOKEN, App


@dataclass(frozen=True)
class DataSetRef:
    name: str
    data_group: str
    data_type: str
    bearer_token: str

    @property
    def path(self) -> str:
        return f"/data/{self.data_group}/{self.data_type}"


def create_data_set(write: App, data_group: str, data_type: str) -> DataSetRef:
    """POST /data-sets on the write app, raw queries allowed (the raw query is benchmarked too)."""
    token = f"{data_group}-{data_type}-token"
    body = {"data_group": data_group, "data_type": data_type, "bearer_token": token,
            "raw_queries_allowed": True}
    response = requests.post(write.url + "/data-sets", json=body, timeout=30,
                             headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    if response.status_code != 201:
        raise RuntimeError(f"creating {data_group}/{data_type} answered {response.status_code}: "
                           f"{response.text[:500]}")
    return DataSetRef(response.json()["name"], data_group, data_type, token)


def post_all(write: App, data_set: DataSetRef, bodies: list[bytes], clients: int,
             records: int) -> dict:
    """POST every body from `clients` threads; the rate and where the CPU went."""
    url = write.url + data_set.path
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {data_set.bearer_token}"}
    next_index = itertools.count()
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            while not failures:
                index = next(next_index)
                if index >= len(bodies):
                    return
                started = time.perf_counter()
                try:
                    response = session.post(url, data=bodies[index], headers=headers, timeout=600)
                except requests.RequestException as error:
                    failures.append(f"batch {index}: {type(error).__name__}: {error}")
                    return
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        failures.append(f"batch {index}: {response.status_code} {response.text[:300]}")

    workers = write.worker_pids()
    server_cpu, machine = procfs.cpu_seconds(workers), procfs.MachineCpu.now()
    client_cpu = time.process_time()
    started = time.perf_counter()
    threads = [threading.Thread(target=client, name=f"bench-client-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"ingest failed: {failures[0]}")
    worker_cpu = procfs.cpu_seconds(workers) - server_cpu
    return {
        "records": records,
        "batches": len(bodies),
        "clients": clients,
        "seconds": round(seconds, 3),
        "records_per_second": round(records / seconds, 1),
        "batch_latency": stats.summary(latencies),
        "client_cpu_seconds": round(time.process_time() - client_cpu, 2),
        "write_workers_cpu_seconds": round(worker_cpu, 2),
        # Independent of other load on a shared machine: the write app's own cost per record.
        "records_per_write_worker_cpu_second": round(records / worker_cpu, 1) if worker_cpu else None,
        "machine_busy_cores": round(procfs.MachineCpu.now().busy_cores_since(machine), 2),
    }
