"""Contract: engines shared between processes show every process the same database."""
from __future__ import annotations

import subprocess
import sys

import pytest
from storage_support import CONFIG, at, ids, record

from backdrop.core.storage.base import RecordQuery
from backdrop.core.storage.engines import Capability

# Another process opens the same URL, reads what this one wrote and writes one record more.
OTHER_PROCESS = """
import sys
from datetime import datetime, timezone
from backdrop.core.storage import open_storage
from backdrop.core.storage.base import RecordQuery
storage = open_storage(sys.argv[1], pool_size=1)
print(",".join(record["_id"] for record in storage.find("ds", RecordQuery())))
storage.save_records("ds", [{"_id": "b", "_updated_at": datetime(2014, 1, 2, tzinfo=timezone.utc)}])
storage.close()
"""


@pytest.mark.needs(Capability.SHARED_BETWEEN_PROCESSES)
def test_another_process_opening_the_same_url_sees_and_makes_writes(engine, engine_database):
    engine.create_data_set(CONFIG)
    engine.save_records("ds", [record("a", at(2014, 1, 1))])
    completed = subprocess.run([sys.executable, "-c", OTHER_PROCESS, engine_database[1]],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip() == "a"
    assert ids(engine.find("ds", RecordQuery())) == ["a", "b"]
