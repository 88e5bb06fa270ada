"""Shared helpers for durability tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpit.core.commands import Command, encode_command
from openpit.durability import FsyncMode, JournalWriter
from openpit.durability.testing import ChainTarget


class CountingFsync:
    """An injectable fsync that counts its calls (and really syncs)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, fd: int) -> None:
        import os

        self.calls += 1
        os.fsync(fd)


def run_live(
    journal_dir: Path,
    commands: Sequence[tuple[Command, int]],
    *,
    segment_bytes: int = 1 << 20,
    mode: FsyncMode = FsyncMode.OFF,
    group: int = 16,
) -> ChainTarget:
    """Execute ``commands`` on a fresh target, journaling each one, flushing every ``group``."""
    target = ChainTarget()
    writer = JournalWriter(journal_dir, 1, mode=mode, segment_bytes=segment_bytes)
    for command, ts in commands:
        target.execute(command, ts)
        writer.append(target.seq, ts, encode_command(command))
        if target.seq % group == 0:
            writer.flush()
    writer.close_sync()
    return target
