"""kill -9 in the middle of group commits: every acknowledged command survives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from openpit.durability import Durability, DurabilityConfig, FsyncMode
from openpit.durability.testing import ChainTarget, random_commands

CHILD = """
import asyncio, sys
from pathlib import Path
from openpit.core.commands import encode_command
from openpit.durability import Durability, DurabilityConfig, FsyncMode
from openpit.durability.testing import ChainTarget, random_commands

async def main() -> None:
    cfg = DurabilityConfig(data_dir=Path(sys.argv[1]), fsync=FsyncMode.BATCH,
                           segment_bytes=64 * 1024, snapshot_every_commands=700,
                           snapshot_every_seconds=0)
    d = Durability.open(ChainTarget, cfg)
    stream = random_commands(99, 50_000)

    async def client(command, ts) -> None:
        d.target.execute(command, ts)
        seq = d.target.seq
        d.append(seq, ts, encode_command(command))
        await d.commit()
        sys.stdout.write(f"{seq}\\n")  # the ack leaves the process only now
        sys.stdout.flush()

    i = 0
    while True:
        await asyncio.gather(*(client(*stream[i + k]) for k in range(32)))
        i += 32
        await d.maybe_snapshot()

asyncio.run(main())
"""


def test_crash_kill9_during_group_commits_keeps_every_acknowledged_command(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    acked = 0
    for line in child.stdout:
        acked = int(line)
        if acked >= 3000:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert acked >= 3000

    cfg = DurabilityConfig(data_dir=tmp_path, fsync=FsyncMode.OFF)
    d = Durability.open(ChainTarget, cfg)
    assert d.recovered.seq >= acked
    expected = ChainTarget()
    for command, ts in random_commands(99, d.recovered.seq):
        expected.execute(command, ts)
    assert d.target.state_hash() == expected.state_hash()
    assert d.writer.next_seq == d.recovered.seq + 1
    d.close_sync()
