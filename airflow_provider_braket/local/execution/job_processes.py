"""Every process of a job, found and stopped: on every ending and after a kill -9 of the service.

A job's processes are not only its leader's descendants. A child may start its own session
(leaving the process group) and be orphaned at once (leaving the tree). So a process belongs to
a job if any of these hold:

- it is the leader or a descendant of it, or in the leader's process group or session;
- its environment carries the job run's marker (``BRAKET_LOCAL_JOB_RUN``, a random value per
  run that every child inherits);
- it was seen as one of the above while the job ran: the service records each such process by
  pid *and* create time, so a pid the system has since given to another program is never
  touched.

Processes are identified that way only, never by name.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
from collections.abc import Iterable

import psutil

log = logging.getLogger(__name__)

MARKER_VARIABLE = "BRAKET_LOCAL_JOB_RUN"

Seen = tuple[int, float]  # (pid, create time)


def new_marker(job_id: str) -> str:
    return f"{job_id}:{secrets.token_hex(8)}"


def scan(
    leader: Seen | None, marker: str, seen: Iterable[Seen] = (), by_marker: bool = True
) -> list[psutil.Process]:
    """The live processes of a job run (see the module's rules), leader first if alive.

    :param by_marker: also read every process's environment for the marker (a full scan of
        the process table; the periodic census leaves it out).
    """
    found: dict[int, psutil.Process] = {}
    leader_process = _same_process(leader) if leader else None
    if leader_process is not None:
        found[leader_process.pid] = leader_process
        with contextlib.suppress(psutil.Error):
            for child in leader_process.children(recursive=True):
                found[child.pid] = child
    for pid, started in seen:
        process = _same_process((pid, started))
        if process is not None:
            found[process.pid] = process
    for process in psutil.process_iter():
        if process.pid in found or process.pid == os.getpid():
            continue
        if _belongs(process, leader, leader_process is not None, marker if by_marker else None):
            found[process.pid] = process
    return list(found.values())


def remember(processes: Iterable[psutil.Process]) -> set[Seen]:
    remembered = set()
    for process in processes:
        with contextlib.suppress(psutil.Error):
            remembered.add((process.pid, process.create_time()))
    return remembered


def terminate(processes: list[psutil.Process], grace_seconds: float) -> None:
    """SIGTERM every process, SIGKILL those alive after the grace, wait until they are gone."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(processes, timeout=grace_seconds)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    _, survivors = psutil.wait_procs(alive, timeout=5)
    for process in survivors:
        log.warning("process %d of a job did not end after SIGKILL", process.pid)


def _same_process(seen: Seen) -> psutil.Process | None:
    """The process with this pid if it is still the one started at that time."""
    pid, started = seen
    try:
        process = psutil.Process(pid)
        return process if process.create_time() == started else None
    except psutil.Error:
        return None


def _belongs(process: psutil.Process, leader: Seen | None, leader_alive: bool, marker: str | None) -> bool:
    try:
        # Group and session ids are the leader's pid; trusted only while the leader itself is
        # the recorded process (else the pid may lead some unrelated group by now).
        if leader_alive and leader and leader[0] in (os.getpgid(process.pid), os.getsid(process.pid)):
            return True
        return marker is not None and process.environ().get(MARKER_VARIABLE) == marker
    except (psutil.Error, OSError):
        return False
