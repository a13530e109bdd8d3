"""What only the PostgreSQL engine can get wrong: its storage encoding, schema and connections.

The contract suite proves the engine answers like the reference; these pin the places where
PostgreSQL itself would bend a value (JSONB numbers, U+0000) or where the engine manages
the server (lazy pool, schema created once by many processes, errors as StorageError).
"""
from __future__ import annotations

import threading

import pytest
from postgres_support import postgres_enabled
from storage_support import CONFIG, at, record

from backdrop.core.storage.base import (
    AggregateQuery,
    Filter,
    Op,
    RecordQuery,
    Reduction,
    Sort,
    StorageError,
    record_size,
)

pytestmark = pytest.mark.skipif(
    not postgres_enabled(), reason="SKIP postgres: BACKDROP_TEST_POSTGRES is not 1"
)

CONTROL = "a\x00b\x01c"


@pytest.fixture
def pg(postgres_url):
    from postgres_support import reset_postgres

    from backdrop.core.storage.postgres import PostgresStorage

    reset_postgres(postgres_url)
    storage = PostgresStorage.from_url(postgres_url, pool_size=2)
    storage.create_data_set(CONFIG)
    yield storage
    storage.close()


def _ids(records) -> list[str]:
    return [found["_id"] for found in records]


def test_strings_holding_nul_and_its_escape_come_back_unchanged(pg):
    pg.save_records("ds", [record("id\x00", s=CONTROL, t="\x01\x01", u="\x01\x02")])
    stored = pg.get_record("ds", "id\x00")
    assert (stored["_id"], stored["s"], stored["t"], stored["u"]) == ("id\x00", CONTROL, "\x01\x01", "\x01\x02")


def test_nul_strings_filter_by_equality_and_prefix(pg):
    pg.save_records("ds", [record("a", s=CONTROL), record("b", s="a"), record("c", s="a\x01")])
    assert _ids(pg.find("ds", RecordQuery(filters=(Filter("s", CONTROL),)))) == ["a"]
    assert _ids(pg.find("ds", RecordQuery(filters=(Filter("s", "a\x00", prefix=True),)))) == ["a"]
    assert _ids(pg.find("ds", RecordQuery(filters=(Filter("s", "a\x01", prefix=True),)))) == ["c"]


def test_nul_strings_sort_by_code_point(pg):
    pg.save_records("ds", [record("x", s="a\x02"), record("y", s="a\x01"), record("z", s="a\x00"),
                           record("w", s="a")])
    assert _ids(pg.find("ds", RecordQuery(sort=Sort("s")))) == ["w", "z", "y", "x"]


def test_nul_strings_group_and_collect_unchanged(pg):
    pg.save_records("ds", [record("a", s=CONTROL), record("b", s=CONTROL, v="\x00")])
    distinct = Reduction("v", Op.DISTINCT)
    [row] = pg.aggregate("ds", AggregateQuery(group_by=("s",), reductions=(distinct,)))
    assert (row.group, row.count, row.values[distinct]) == ((CONTROL,), 2, ["\x00"])


def test_whole_and_huge_floats_stay_floats(pg):
    values = {"two": 2.0, "big": 1e16, "huge": 1.5e300, "zero": 0.0, "tiny": 5e-324}
    pg.save_records("ds", [record("a", **values)])
    stored = pg.get_record("ds", "a")
    assert {k: (stored[k], type(stored[k])) for k in values} == {k: (v, float) for k, v in values.items()}


# Record validation keeps integers beyond 64 bits out of every write; these tests call the
# engine directly, below it: records stored before that rule (and copied by export and
# replicate) must still read back exactly, never rounded.
def test_integers_beyond_64_bits_stay_exact_integers(pg):
    values = {"big": 2**70 + 1, "low": -(2**63) - 1, "top": 2**64 - 1}
    pg.save_records("ds", [record("a", **values)])
    stored = pg.get_record("ds", "a")
    assert {k: (stored[k], type(stored[k])) for k in values} == {k: (v, int) for k, v in values.items()}


SUM_V = Reduction("v", Op.SUM)


def test_a_sum_of_whole_floats_is_a_float(pg):
    pg.save_records("ds", [record("a", v=1.0), record("b", v=2.0)])
    [row] = pg.aggregate("ds", AggregateQuery(reductions=(SUM_V,)))
    assert (row.values[SUM_V], type(row.values[SUM_V])) == (3.0, float)


def test_a_sum_of_huge_integers_stays_exact(pg):
    pg.save_records("ds", [record("a", v=2**70), record("b", v=1)])
    [row] = pg.aggregate("ds", AggregateQuery(reductions=(SUM_V,)))
    assert (row.values[SUM_V], type(row.values[SUM_V])) == (2**70 + 1, int)


def _groups(pg, field: str) -> list[tuple[str, int]]:
    rows = pg.aggregate("ds", AggregateQuery(group_by=(field,)))
    return sorted((repr(row.group[0]), row.count) for row in rows)


def test_group_texts_that_read_like_numbers_or_booleans_keep_their_type(pg):
    # Groups are keyed by text; only texts below ':' or reading true/false are typed.
    pg.save_records("ds", [record("1", v="true"), record("2", v=True), record("3", v="-1"),
                           record("4", v=-1), record("5", v="false"), record("6", v=False),
                           record("7", v="0.5"), record("8", v=0.5), record("9", v=" x")])
    assert _groups(pg, "v") == [("' x'", 1), ("'-1'", 1), ("'0.5'", 1), ("'false'", 1),
                                ("'true'", 1), ("-1", 1), ("0.5", 1), ("False", 1), ("True", 1)]


def test_group_values_come_back_as_stored_numbers_and_unescaped_strings(pg):
    pg.save_records("ds", [record("1", v=2**70), record("2", v=1e16), record("3", v=CONTROL)])
    rows = pg.aggregate("ds", AggregateQuery(group_by=("v",)))
    assert sorted(((type(row.group[0]), row.group[0]) for row in rows), key=repr) == sorted(
        [(int, 2**70), (float, 1e16), (str, CONTROL)], key=repr)


def test_groups_spelt_one_and_one_point_zero_merge_their_collected_fields(pg):
    pg.save_records("ds", [record("1", g=1, v=2), record("2", g=1.0, v=0.5), record("3", g=1, v="x"),
                           record("4", g=1.0, v=2)])
    every = tuple(Reduction("v", op) for op in (Op.SUM, Op.NUMBERS, Op.COUNT, Op.DISTINCT))
    [row] = pg.aggregate("ds", AggregateQuery(group_by=("g",), reductions=every))
    total, numbers, count, distinct = (row.values[reduction] for reduction in every)
    assert (row.count, total, type(total), numbers, count, distinct) == (4, 4.5, float, 3, 4, [0.5, 2, "x"])


NUMERIC = tuple(Reduction("v", op) for op in (Op.MIN, Op.MAX, Op.NUMBER_LIST))


def test_extremes_and_number_lists_of_integers_beyond_64_bits_stay_exact(pg):
    pg.save_records("ds", [record("1", v=2**70 + 1), record("2", v=-(2**65)), record("3", v=0.5)])
    [row] = pg.aggregate("ds", AggregateQuery(reductions=NUMERIC))
    assert [row.values[reduction] for reduction in NUMERIC] == [-(2**65), 2**70 + 1, [-(2**65), 0.5, 2**70 + 1]]
    assert type(row.values[NUMERIC[1]]) is int


def test_groups_spelt_one_and_one_point_zero_merge_their_number_lists_in_order(pg):
    pg.save_records("ds", [record("1", g=1, v=9), record("2", g=1.0, v=0.5), record("3", g=1, v=3),
                           record("4", g=1.0, v=4)])
    [row] = pg.aggregate("ds", AggregateQuery(group_by=("g",), reductions=NUMERIC))
    assert [row.values[reduction] for reduction in NUMERIC] == [0.5, 9, [0.5, 3, 4, 9]]


@pytest.mark.parametrize("seed", range(8))
def test_percentiles_equal_the_servers_percentile_cont(pg, postgres_url, seed):
    """The numbers the engine gathers, interpolated in Python, against PostgreSQL's own answer."""
    import random

    import psycopg

    from backdrop.core.collect import percentile

    chance = random.Random(seed)
    numbers = [chance.choice([chance.randint(-50, 50), chance.uniform(-1e6, 1e6), chance.random()])
               for _ in range(chance.randint(1, 40))]
    pg.save_records("ds", [record(str(i), v=v) for i, v in enumerate(numbers)] + [record("x", v="7")])
    [row] = pg.aggregate("ds", AggregateQuery(reductions=(NUMERIC[2],)))
    percents = [1, 5, 25, 33, 50, 67, 90, 95, 99]
    sql = ("SELECT percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY (body -> 'v')::float8)"
           " FROM backdrop_records WHERE data_set = 'ds' AND jsonb_typeof(body -> 'v') = 'number'")
    with psycopg.connect(postgres_url) as connection:
        [expected] = connection.execute(sql, ([p / 100 for p in percents],)).fetchone()
    assert [percentile(row.values[NUMERIC[2]], p) for p in percents] == expected


def test_capping_counts_the_size_of_the_record_as_returned(pg):
    first, second = record("a", s=CONTROL, f=1e16), record("b", s=CONTROL, f=1e-07)
    pg.save_records("ds", [first])
    budget = record_size(pg.get_record("ds", "a")) + record_size(_as_returned(second))
    pg.save_records("ds", [second], capped_size=budget)
    assert _ids(pg.find("ds", RecordQuery())) == ["a", "b"]
    pg.save_records("ds", [], capped_size=budget - 1)
    assert _ids(pg.find("ds", RecordQuery())) == ["b"]


def _as_returned(made: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in made.items()}


def test_a_non_finite_number_is_refused_and_nothing_of_the_batch_is_stored(pg):
    with pytest.raises(StorageError):
        pg.save_records("ds", [record("a", v=1), record("b", v=float("nan"))])
    assert list(pg.find("ds", RecordQuery())) == []


def test_nothing_connects_until_first_use():
    from backdrop.core.storage.postgres import PostgresStorage

    storage = PostgresStorage.from_url("postgresql://nobody@127.0.0.1:1/none", pool_size=1)
    storage.close()


def test_an_unreachable_server_is_a_storage_error():
    from backdrop.core.storage.postgres import PostgresStorage

    storage = PostgresStorage("postgresql://nobody@127.0.0.1:1/none", pool_size=1, timeout=0.5)
    with pytest.raises(StorageError):
        storage.get_data_set("ds")
    storage.close()


def test_a_closed_engine_refuses_work(pg):
    pg.close()
    with pytest.raises(StorageError):
        pg.get_data_set("ds")


def test_engines_starting_at_once_create_the_schema_once(postgres_url):
    from postgres_support import drop_schema

    from backdrop.core.storage.postgres import PostgresStorage

    drop_schema(postgres_url)
    engines = [PostgresStorage.from_url(postgres_url, pool_size=1) for _ in range(4)]
    failures: list[BaseException] = []

    def start(engine) -> None:
        try:
            engine.list_data_sets()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.close()
    assert failures == []


def test_versions_rise_with_every_change_and_are_never_reused(pg):
    seen = [pg.data_set_version("ds")]
    pg.save_records("ds", [record("a")])
    seen.append(pg.data_set_version("ds"))
    pg.delete_record("ds", "a")
    seen.append(pg.data_set_version("ds"))
    pg.empty_data_set("ds")
    seen.append(pg.data_set_version("ds"))
    pg.delete_data_set("ds")
    pg.create_data_set(CONFIG)
    seen.append(pg.data_set_version("ds"))
    assert seen == sorted(set(seen))


def test_a_zone_the_server_does_not_know_is_the_querys_problem_not_a_failure(pg):
    """Python's and the server's tz databases are updated apart: a name only one knows is refused."""
    import io
    from zoneinfo import ZoneInfo

    from backdrop.core.storage.base import UnsupportedQuery
    from backdrop.core.timeseries import DAY, Bucketing

    rules = _zone_file("Europe/London")
    unknown = ZoneInfo.from_file(io.BytesIO(rules), key="Mars/Olympus_Mons")
    pg.save_records("ds", [record("a", at(2024, 3, 31, 12))])
    with pytest.raises(UnsupportedQuery, match="Mars/Olympus_Mons is not in this database server's time zone rules"):
        pg.aggregate("ds", AggregateQuery(bucketing=Bucketing(DAY, unknown)))


def _zone_file(name: str) -> bytes:
    """A zone's compiled rules, from the system's tz database or the tzdata package."""
    import zoneinfo
    from pathlib import Path

    for root in zoneinfo.TZPATH:
        path = Path(root) / name
        if path.is_file():
            return path.read_bytes()
    from importlib.resources import files

    return files("tzdata.zoneinfo").joinpath(*name.split("/")).read_bytes()


def test_a_reads_statement_timeout_ends_with_its_transaction(postgres_url):
    """SET LOCAL: the pooled connection goes back without the read's statement_timeout."""
    from postgres_support import reset_postgres

    from backdrop.core.storage.base import AggregateQuery, RecordQuery
    from backdrop.core.storage.postgres import PostgresStorage

    reset_postgres(postgres_url)
    storage = PostgresStorage.from_url(postgres_url, pool_size=1)
    try:
        storage.create_data_set(CONFIG)
        storage.save_records("ds", [record("a", at(2014, 1, 1))])
        with storage._transaction() as conn:
            before = conn.execute("SHOW statement_timeout").fetchone()[0]
        assert [found["_id"] for found in storage.find("ds", RecordQuery(timeout=7.5))] == ["a"]
        assert storage.aggregate("ds", AggregateQuery(timeout=7.5))[0].count == 1
        with storage._transaction() as conn:
            assert conn.execute("SHOW statement_timeout").fetchone()[0] == before
            conn.execute("SELECT set_config('statement_timeout', '7500', true)")
            assert conn.execute("SHOW statement_timeout").fetchone()[0] == "7500ms"  # what the read set
    finally:
        storage.close()
