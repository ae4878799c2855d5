"""The worker pace of a fetch batch: one worker, doubled at each look that finds the process
waiting, up to the batch's concurrency; never doubled while the process is busy."""

from __future__ import annotations

from adapters.workers import BUSY_SHARE, LOOK_S, WorkerPace

# A look's time and a hair more: the hand-moved clocks add floats.
A_LOOK = LOOK_S * 1.001


class _Clocks:
    """A wall clock and a CPU clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0
        self.used = 5.0

    def wait(self, seconds: float, cpu_share: float) -> None:
        """`seconds` pass, the process using `cpu_share` of a CPU meanwhile."""
        self.now += seconds
        self.used += seconds * cpu_share


def _pace(ceiling: int, clocks: _Clocks) -> WorkerPace:
    return WorkerPace(ceiling, clock=lambda: clocks.now, cpu=lambda: clocks.used)


def test_a_batch_starts_with_one_worker() -> None:
    assert _pace(16, _Clocks()).workers() == 1


def test_a_waiting_process_doubles_its_workers_up_to_the_ceiling() -> None:
    clocks = _Clocks()
    pace = _pace(12, clocks)
    seen = []
    for _ in range(6):
        clocks.wait(A_LOOK, cpu_share=0.05)
        seen.append(pace.workers())
    assert seen == [2, 4, 8, 12, 12, 12]


def test_a_busy_process_keeps_its_workers() -> None:
    clocks = _Clocks()
    pace = _pace(16, clocks)
    for _ in range(5):
        clocks.wait(A_LOOK, cpu_share=BUSY_SHARE + 0.1)
        assert pace.workers() == 1


def test_workers_are_not_taken_away_once_the_process_is_busy() -> None:
    clocks = _Clocks()
    pace = _pace(16, clocks)
    clocks.wait(A_LOOK, cpu_share=0.0)
    assert pace.workers() == 2
    clocks.wait(A_LOOK, cpu_share=1.0)
    assert pace.workers() == 2


def test_looks_closer_together_than_a_look_change_nothing() -> None:
    clocks = _Clocks()
    pace = _pace(16, clocks)
    clocks.wait(LOOK_S * 0.6, cpu_share=0.0)
    assert pace.workers() == 1
    # The look spans both waits: idle throughout, so it doubles once.
    clocks.wait(LOOK_S * 0.6, cpu_share=0.0)
    assert pace.workers() == 2


def test_a_look_weighs_the_whole_time_since_the_last_one() -> None:
    clocks = _Clocks()
    pace = _pace(16, clocks)
    clocks.wait(A_LOOK * 3, cpu_share=0.9)  # busy, then
    clocks.wait(A_LOOK, cpu_share=0.0)  # idle for a look: 0.675 of a CPU over the four
    assert pace.workers() == 1


def test_a_ceiling_of_one_or_less_is_one_worker() -> None:
    for ceiling in (1, 0, -3):
        clocks = _Clocks()
        pace = _pace(ceiling, clocks)
        clocks.wait(A_LOOK, cpu_share=0.0)
        assert pace.workers() == 1
