"""Contract: wrong tokens counted per address and minute, on every engine."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def test_failures_count_per_address_and_minute(engine):
    assert engine.failures("10.0.0.1", 1000) == 0
    assert [engine.count_failure("10.0.0.1", 1000) for _ in range(3)] == [1, 2, 3]
    assert engine.count_failure("10.0.0.2", 1000) == 1
    assert engine.count_failure("10.0.0.1", 1001) == 1
    assert (engine.failures("10.0.0.1", 1000), engine.failures("10.0.0.2", 1000)) == (3, 1)


def test_minutes_before_the_previous_one_are_forgotten(engine):
    engine.count_failure("10.0.0.1", 1000)
    engine.count_failure("10.0.0.2", 1001)
    engine.count_failure("10.0.0.3", 1002)
    assert engine.failures("10.0.0.1", 1000) == 0 and engine.failures("10.0.0.2", 1001) == 1


def test_concurrent_failures_are_all_counted(engine):
    with ThreadPoolExecutor(4) as pool:
        counts = sorted(pool.map(lambda _: engine.count_failure("::1", 5), range(12)))
    assert counts == list(range(1, 13)) and engine.failures("::1", 5) == 12
