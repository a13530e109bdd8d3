"""A data set of its own for one crash or load test, made and removed through the write app."""
from __future__ import annotations

import json
from contextlib import contextmanager

import requests
from hostile_cases import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}


@contextmanager
def new_data_set(served, name: str):
    """A new data set `hostile/NAME` for one test, deleted after it (the catalogue's
    snapshots stay small): yields its write URL and the headers writing to it."""
    served.last_snapshot = None  # the catalogue takes a new one after this test
    token, admin_url = f"{name}-token", f"{served.apps['write'].url}/data-sets"
    config = {"data_group": "hostile", "data_type": name, "bearer_token": token, "raw_queries_allowed": True}
    created = requests.post(admin_url, data=json.dumps(config), headers=ADMIN, timeout=30)
    assert created.status_code == 201, created.text
    writer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        yield f"{served.apps['write'].url}/data/hostile/{name}", writer
    finally:
        requests.delete(f"{admin_url}/hostile_{name}", headers=ADMIN, timeout=30)
