"""Private files: the data directory is 0700 and every file in it 0600.

Invariants:
- Modes are set explicitly (``chmod`` after ``mkdir``, ``os.open`` with mode 0600 plus
  ``fchmod``), so the process umask never widens them.
- ``tighten(data_dir)`` narrows an existing tree (older data directories were 0755 with
  0644 files): directories to 0700, regular files to 0600. Symlinks are not followed.
- Nothing here reads or logs file contents.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) if needed; ``path`` itself ends up 0700."""
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    if stat.S_IMODE(p.stat().st_mode) != DIR_MODE:
        os.chmod(p, DIR_MODE)
    return p


def open_private(path: str | os.PathLike[str], flags: int) -> int:
    """``os.open(path, flags, 0600)`` whose file is 0600 whatever the umask."""
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def make_private(path: str | os.PathLike[str]) -> None:
    """Narrow one existing file to 0600 (a missing file is fine)."""
    try:
        if stat.S_IMODE(os.lstat(path).st_mode) != FILE_MODE:
            os.chmod(path, FILE_MODE, follow_symlinks=False)
    except FileNotFoundError:
        pass
    except NotImplementedError:  # pragma: no cover - platforms without lchmod
        os.chmod(path, FILE_MODE)


def tighten(data_dir: str | os.PathLike[str]) -> None:
    """Make ``data_dir`` 0700 and everything under it 0700 (dirs) / 0600 (files)."""
    root = private_dir(data_dir)
    for top, dirs, files in os.walk(root):
        for name in dirs:
            d = os.path.join(top, name)
            if not os.path.islink(d) and stat.S_IMODE(os.stat(d).st_mode) != DIR_MODE:
                os.chmod(d, DIR_MODE)
        for name in files:
            f = os.path.join(top, name)
            if not os.path.islink(f):
                make_private(f)
