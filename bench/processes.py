"""Processes the partner benchmark starts, and what it reads about them (CPU time, RSS).

Every child is started in a session (process group) of its own and registered; ``stop_all``
ends every registered group (SIGTERM, then SIGKILL after a grace period). The harness calls it
from ``finally`` and from ``atexit``, and turns SIGTERM and SIGHUP into an exception so that
``finally`` runs on them as on Ctrl-C.
"""

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

import httpx
import psutil

STOP_GRACE_S = 10.0
_started: list[subprocess.Popen[Any]] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(
    command: Sequence[str],
    env: dict[str, str],
    log: Path | None = None,
    pipes: bool = False,
    cwd: Path | None = None,
) -> subprocess.Popen[Any]:
    """Start ``command`` in a process group of its own; its output goes to ``log``."""
    out: IO[Any] | int = subprocess.DEVNULL
    if log is not None:
        out = log.open("ab")
    process = subprocess.Popen(
        list(command),
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
        stdout=subprocess.PIPE if pipes else out,
        stderr=out,
        start_new_session=True,
        text=pipes,
    )
    if log is not None and not isinstance(out, int):
        out.close()
    _started.append(process)
    return process


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM to the whole group, SIGKILL to what is left after the grace period."""
    if process in _started:
        _started.remove(process)
    group = process.pid  # start_new_session: the group id is the leader's pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_GRACE_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)  # workers that outlived their master, too
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_GRACE_S)


def stop_all() -> None:
    for process in list(reversed(_started)):
        stop(process)


class Interrupted(BaseException):
    """SIGTERM or SIGHUP: unwind like KeyboardInterrupt so that cleanup runs."""


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


def install_cleanup() -> None:
    atexit.register(stop_all)
    # Started in the background by a shell, a process inherits SIGINT ignored; take it back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)


def wait_ready(process: subprocess.Popen[Any], url: str, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited ({process.returncode}); see {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout_s:.0f} s; see {log}")


def tree(pid: int) -> list[Any]:
    """The process and its descendants (psutil.Process objects) still alive."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(processes: Iterable[Any]) -> dict[int, float]:
    """User + system CPU seconds by pid."""
    seconds: dict[int, float] = {}
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = process.cpu_times()
            seconds[int(process.pid)] = float(times.user) + float(times.system)
    return seconds


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings by the processes alive at the second (new ones in full)."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def rss_bytes(pid: int) -> int:
    total = 0
    for process in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += int(process.memory_info().rss)
    return total


class RssSampler:
    """Samples the RSS of a process tree every ``interval_s`` in a thread; keeps the series."""

    def __init__(self, pid: int, interval_s: float) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.monotonic(), rss_bytes(self.pid)))

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), rss_bytes(self.pid)))
            if self._stop.wait(self.interval_s):
                return

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)
