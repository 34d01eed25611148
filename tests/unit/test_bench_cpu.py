"""The fan-out bench's CPU readers: what a process spent between two wall times.

``bench.fanout`` says where a round's time goes from these (the workers', the
controller's and the broker's CPU between a publish and the last start), so a reader
that silently read nothing would make its figures lie.
"""

from __future__ import annotations

import os
import time

from bench.fanout_workers import CpuSampler, cpu_between, process_cpu


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_process_cpu_reads_a_process_cpu_time_from_proc() -> None:
    read = process_cpu(os.getpid())
    before = read()
    _spin(0.1)
    spent = read() - before
    # /proc counts in clock ticks (10 ms): 100 ms of spinning reads as 80-200 ms.
    assert 0.08 <= spent <= 0.2, spent


def test_process_cpu_of_a_process_gone_reads_zero() -> None:
    assert process_cpu(2**22 + 12345)() == 0.0  # above pid_max's default: never a live pid


def test_sampler_and_cpu_between_see_a_busy_spell_not_the_idle_one() -> None:
    sampler = CpuSampler()
    sampler.start()
    time.sleep(0.05)
    idle_from = time.time()
    time.sleep(0.1)
    busy_from = time.time()
    _spin(0.1)
    busy_to = time.time()
    time.sleep(0.05)
    samples = sampler.stop()
    assert cpu_between(samples, idle_from, busy_from) < 0.03
    assert 0.07 <= cpu_between(samples, busy_from, busy_to) <= 0.13
