"""Contract: the transform run history (save, update, newest first, bounded, last run), on every engine."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from backdrop.core.storage.base import TransformRun

START = datetime(2026, 1, 5, 9, 30, 0, 250000, tzinfo=timezone.utc)


def a_run(run_id: str, transform_id: str = "t1", minutes: int = 0, **changes) -> TransformRun:
    run = TransformRun(id=run_id, transform_id=transform_id, data_set="visas_transactions",
                       earliest=datetime(2014, 1, 6, tzinfo=timezone.utc),
                       latest=datetime(2014, 1, 7, 12, tzinfo=timezone.utc), trigger="write",
                       started_at=START + timedelta(minutes=minutes), outcome="running")
    return replace(run, **changes)


def test_a_saved_run_is_listed_as_it_was_saved(engine):
    run = a_run("r1", error="odd \x00 text ✓")
    engine.save_run(run, keep=10)
    assert engine.list_runs("t1") == [run]


def test_saving_a_run_again_updates_it_in_place(engine):
    engine.save_run(a_run("r1"), keep=10)
    engine.save_run(a_run("r2", minutes=1), keep=10)
    ended = a_run("r1", outcome="ok", ended_at=START + timedelta(seconds=3), records_written=7)
    engine.save_run(ended, keep=10)
    assert [(run.id, run.outcome, run.records_written) for run in engine.list_runs("t1")] == \
        [("r2", "running", 0), ("r1", "ok", 7)]
    assert engine.list_runs("t1")[1] == ended


def test_runs_are_listed_newest_first_and_limited(engine):
    for run_id, minutes in (("b", 2), ("a", 5), ("c", 1), ("d", 5)):
        engine.save_run(a_run(run_id, minutes=minutes), keep=10)
    assert [run.id for run in engine.list_runs("t1")] == ["d", "a", "b", "c"]
    assert [run.id for run in engine.list_runs("t1", limit=2)] == ["d", "a"]


def test_runs_of_other_transforms_are_not_listed(engine):
    engine.save_run(a_run("r1"), keep=10)
    engine.save_run(a_run("r2", transform_id="t2"), keep=10)
    assert [run.id for run in engine.list_runs("t2")] == ["r2"]
    assert engine.list_runs("unknown") == []


def test_a_new_run_prunes_the_transforms_history_to_the_newest_kept(engine):
    for minutes in range(5):
        engine.save_run(a_run(f"r{minutes}", minutes=minutes), keep=3)
    engine.save_run(a_run("other", transform_id="t2", minutes=9), keep=3)
    assert [run.id for run in engine.list_runs("t1")] == ["r4", "r3", "r2"]
    assert [run.id for run in engine.list_runs("t2")] == ["other"]


def test_updating_a_run_prunes_nothing(engine):
    for minutes in range(3):
        engine.save_run(a_run(f"r{minutes}", minutes=minutes), keep=3)
    engine.save_run(a_run("r0", outcome="ok"), keep=1)
    assert [run.id for run in engine.list_runs("t1")] == ["r2", "r1", "r0"]


def test_deleting_a_transforms_runs_leaves_the_others(engine):
    engine.save_run(a_run("r1"), keep=10)
    engine.save_run(a_run("r2", minutes=1), keep=10)
    engine.save_run(a_run("r3", transform_id="t2"), keep=10)
    assert engine.delete_runs("t1") == 2
    assert engine.list_runs("t1") == [] and list(engine.last_runs()) == ["t2"]
    assert engine.delete_runs("t1") == 0


def test_last_runs_answers_the_newest_run_of_every_transform(engine):
    assert engine.last_runs() == {}
    engine.save_run(a_run("r1", minutes=1), keep=10)
    engine.save_run(a_run("r2", minutes=2, outcome="failed on source data", error="bad"), keep=10)
    engine.save_run(a_run("r3", transform_id="t2"), keep=10)
    assert engine.last_runs() == {"t1": a_run("r2", minutes=2, outcome="failed on source data", error="bad"),
                                  "t2": a_run("r3", transform_id="t2")}
