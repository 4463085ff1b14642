"""The test session's temporary files on a memory-backed file system (tmpfs), when there is one.

Every SQLite database a test creates runs in WAL mode with `synchronous=FULL`, as in production:
each commit waits for an fsync. On this machine's disk that is about 5 ms a commit (≈200
commits/s) against 0.07 ms on tmpfs, and the suite commits tens of thousands of times (a single
simulator run commits about 3,500). Nothing in the suite tests durability across a power cut,
so its throwaway files go to /dev/shm: pytest's `tmp_path` (`--basetemp`) and `TMPDIR`, which
the simulator's and the node processes' temporary directories inherit. The product is not
changed; `JUKI_TEST_TMP=disk` keeps everything on disk, `JUKI_TEST_TMP=DIR` uses DIR.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

SHM = Path("/dev/shm")
MIN_FREE = 2 * 1024**3  # a run writes about 100 MB; leave tmpfs alone when memory is short
_RUN_DIR = pytest.StashKey[Path]()
PID_FILE = "run.pid"


def _root() -> Path | None:
    chosen = os.environ.get("JUKI_TEST_TMP", "")
    if chosen == "disk":
        return None
    if chosen:
        return Path(chosen)
    if not SHM.is_dir() or not os.access(SHM, os.W_OK):
        return None
    return SHM if shutil.disk_usage(SHM).free >= MIN_FREE else None


def process_alive(pid: int) -> bool:
    """Whether process `pid` still runs (a process of another user counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_abandoned(root: Path, prefix: str) -> None:
    """A run that was killed left its directory behind, in memory: remove those whose run is
    gone (each holds its run's process id)."""
    for old in root.glob(f"{prefix}*"):
        try:
            pid = int((old / PID_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours, or still being created
        if not process_alive(pid):
            shutil.rmtree(old, ignore_errors=True)


def use_memory_tmp(config: pytest.Config) -> None:
    """In the controlling process only (pytest-xdist passes `basetemp/gwN` to each worker, and
    the workers inherit `TMPDIR`): a fresh directory per run, removed when the run ends."""
    if hasattr(config, "workerinput") or config.option.basetemp:
        return
    root = _root()
    if root is None:
        return
    prefix = f"juki-tests-{os.getuid()}-"
    _remove_abandoned(root, prefix)
    run_dir = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    (run_dir / PID_FILE).write_text(str(os.getpid()))
    config.option.basetemp = str(run_dir / "pytest")
    os.environ["TMPDIR"] = str(run_dir)
    tempfile.tempdir = None  # recomputed from TMPDIR on next use
    config.stash[_RUN_DIR] = run_dir


def remove_memory_tmp(config: pytest.Config) -> None:
    run_dir = config.stash.get(_RUN_DIR, None)
    if run_dir is not None:
        shutil.rmtree(run_dir, ignore_errors=True)
