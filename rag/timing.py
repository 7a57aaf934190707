"""Where a question's time goes: named stages, timed only while someone records them (`rag bench`).

    with record_stages() as times:
        ask("...")
    times  # {"embed": 0.006, "dense": 0.001, ...} seconds, each stage's own time

A stage's time excludes the stages nested inside it, so the stages add up to the
whole. Outside `record_stages` a stage costs one context-variable lookup.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class _Recorder:
    times: dict[str, float] = field(default_factory=dict)
    nested: list[float] = field(default_factory=list)  # time of stages inside each open stage


_recorder: ContextVar[_Recorder | None] = ContextVar("rag_stage_recorder", default=None)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as stage `name` when a recorder is active."""
    rec = _recorder.get()
    if rec is None:
        yield
        return
    started = time.perf_counter()
    rec.nested.append(0.0)
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        inner = rec.nested.pop()
        rec.times[name] = rec.times.get(name, 0.0) + elapsed - inner
        if rec.nested:
            rec.nested[-1] += elapsed


@contextlib.contextmanager
def record_stages() -> Iterator[dict[str, float]]:
    """Collect the stage times (seconds) of everything run inside the block."""
    rec = _Recorder()
    token = _recorder.set(rec)
    try:
        yield rec.times
    finally:
        _recorder.reset(token)
