"""What holds a job's processes: a cgroup of its own, and a user of its own when the service is root.

**cgroup v2** (checked at start, never assumed): each job runs in ``<the service's
cgroup>/braket-job-<id>``. The launcher moves itself there before anything of the job runs, so
every process the job starts is a member whatever it does to its environment, session or
parentage (``env -i setsid -f``, a double fork); ending the job kills the whole cgroup
(``cgroup.kill``). Without a writable cgroup v2 hierarchy
the service says why at start and falls back to finding a job's processes by tree, group,
session and an inherited marker (:mod:`.job_processes`).

**Memory**: the job's processes together get its instance type's memory
(:mod:`airflow_provider_braket.jobs.instance_memory`), or ``--job-memory-mib``: ``memory.max``
where cgroup v2 has the memory controller, else ``memory.limit_in_bytes`` in a cgroup v1 memory
hierarchy the service may write (as on a hybrid machine), else none, said at start. Past it the
kernel kills the job's largest process and the job FAILS naming the limit.

**Job users**: run as root (containers, CI), the service starts each running job as a user of
its own, uid ``JOB_UID_BASE + n`` (no login, no home, no groups), so a job cannot read
``/proc/<service pid>/environ``, the data dir (its state, the admin token) or another job's
folder. Checked at start by running the interpreter as such a user; when that fails (an
interpreter a job user cannot read), the service says so and runs jobs as itself. Run as an
ordinary user, jobs are that user: what they can reach is what that user can reach
(docs/security.md says so).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_VARIABLE = "BRAKET_LOCAL_CGROUPS"  # the cgroups' folders, os.pathsep between them
RUN_AS_VARIABLE = "BRAKET_LOCAL_RUN_AS"
#: Far above any uid a distribution hands out (login users from 1000, subordinate ranges from
#: 100000 by 65536 each): nobody on the machine owns files as these users.
JOB_UID_BASE = 2_100_000_000
_CGROUP_PREFIX = "braket-job-"
_PROBE = (
    "import importlib.util as u, os, sys; "
    "assert u.find_spec('braket.jobs') and u.find_spec('boto3'), 'the Braket SDK cannot be found'; "
    "os.stat(sys.argv[1])"
)


@dataclass
class Containment:
    """Decided once at start.

    :param cgroups: the cgroup v2 folder job cgroups are made in; None where there is none.
    :param memory_cgroups: where a job's memory-limiting cgroup is made (``cgroups`` itself when
        ``memory_v2``, else a cgroup v1 memory folder); None where memory cannot be limited.
    :param job_users: whether jobs run as users of their own.
    """

    cgroups: Path | None = None
    memory_cgroups: Path | None = None
    memory_v2: bool = False
    job_users: bool = False
    _uids_in_use: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def detect(cls, python: str, data_dir: Path) -> Containment:
        containment = cls(cgroups=_own_cgroup())
        if containment.cgroups is None:
            log.warning(
                "no writable cgroup v2 hierarchy for this process: a job's processes are found by "
                "tree, group, session and an inherited marker, which a process that empties its "
                "environment and leaves its session can escape (docs/local-service.md)"
            )
        else:
            log.info("each job runs in a cgroup of its own under %s", containment.cgroups)
            if _enable_memory_v2(containment.cgroups):
                containment.memory_cgroups, containment.memory_v2 = containment.cgroups, True
        if containment.memory_cgroups is None:
            containment.memory_cgroups = _own_cgroup("memory")
        if containment.memory_cgroups is None:
            log.warning("no memory controller this process may use: jobs get no memory limit")
        else:
            log.info("a job's memory is limited in cgroups under %s", containment.memory_cgroups)
        if os.geteuid() == 0:
            # A job's user must reach its own folder: through these two, never into anything else.
            jobs = data_dir / "jobs"
            jobs.mkdir(mode=0o700, exist_ok=True)
            for folder in (data_dir, jobs):
                folder.chmod(0o711)
            problem = _job_user_problem(python, jobs)
            containment.job_users = problem is None
            if problem:
                for folder in (data_dir, jobs):
                    folder.chmod(0o700)
                log.warning("running as root, but jobs run as root too: %s", problem)
            else:
                log.info("running as root: each job runs as a user of its own (uid %d and up)", JOB_UID_BASE)
        return containment

    # -- job users ---------------------------------------------------------------------------

    def take_uid(self) -> int | None:
        """A uid no running job has, or None when jobs run as the service."""
        if not self.job_users:
            return None
        with self._lock:
            uid = next(uid for uid in itertools.count(JOB_UID_BASE) if uid not in self._uids_in_use)
            self._uids_in_use.add(uid)
        return uid

    def give_back_uid(self, uid: int | None) -> None:
        if uid is not None:
            with self._lock:
                self._uids_in_use.discard(uid)

    # -- cgroups -----------------------------------------------------------------------------

    def cgroups_of(self, job_id: str) -> list[Path]:
        """Where the job's cgroups are (whether or not they exist now), tracking one first."""
        roots = [self.cgroups, None if self.memory_v2 else self.memory_cgroups]
        return [root / f"{_CGROUP_PREFIX}{job_id}" for root in roots if root is not None]

    def make_cgroups(self, job_id: str, memory_bytes: int | None) -> JobCgroups:
        """The job's cgroups, empty and new, with its memory limit where one can be set."""
        made = JobCgroups()
        for cgroup in self.cgroups_of(job_id):
            if cgroup.exists():
                kill_cgroup(cgroup)
            cgroup.mkdir()
            made.paths.append(cgroup)
        if memory_bytes and self.memory_cgroups is not None:
            made.memory = self.memory_cgroups / f"{_CGROUP_PREFIX}{job_id}"
            limit = "memory.max" if self.memory_v2 else "memory.limit_in_bytes"
            (made.memory / limit).write_text(str(memory_bytes))
            made.memory_bytes = memory_bytes
        return made


@dataclass
class JobCgroups:
    """A running job's cgroups: every process of the job is in each of ``paths``."""

    paths: list[Path] = field(default_factory=list)
    memory: Path | None = None
    memory_bytes: int | None = None

    def ran_out_of_memory(self) -> bool:
        """Whether the kernel killed a process of the job for going past its memory limit."""
        if self.memory is None:
            return False
        for name in ("memory.events", "memory.oom_control"):  # v2, v1
            with contextlib.suppress(OSError, ValueError):
                for line in (self.memory / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and int(value) > 0:
                        return True
        return False

    def stop(self, grace_seconds: float) -> None:
        for cgroup in self.paths:
            stop_cgroup(cgroup, grace_seconds)


def cgroup_members(cgroup: Path) -> list[int]:
    """The pids in ``cgroup`` (and its descendants, which a job cannot make: it is not the owner)."""
    pids: list[int] = []
    for procs in [cgroup / "cgroup.procs", *cgroup.glob("**/cgroup.procs")][: 1 + 64]:
        with contextlib.suppress(OSError, ValueError):
            pids += [int(line) for line in procs.read_text().split()]
    return sorted(set(pids))


def stop_cgroup(cgroup: Path, grace_seconds: float) -> None:
    """SIGTERM every member, then kill what is left and remove the cgroup."""
    for pid in cgroup_members(cgroup):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while cgroup_members(cgroup) and time.monotonic() < deadline:
        time.sleep(0.05)
    kill_cgroup(cgroup)


def kill_cgroup(cgroup: Path) -> None:
    """Kill every member at once (``cgroup.kill``, or SIGKILL each where the kernel is older than
    5.14), wait until it is empty, remove it."""
    if not cgroup.exists():
        return
    killer = cgroup / "cgroup.kill"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if killer.exists():
            with contextlib.suppress(OSError):
                killer.write_text("1")
        else:
            for pid in cgroup_members(cgroup):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        if not cgroup_members(cgroup):
            break
        time.sleep(0.02)
    try:
        cgroup.rmdir()
    except OSError as error:
        log.warning("could not remove the cgroup %s: %s", cgroup, error)


def _own_cgroup(controller: str | None = None) -> Path | None:
    """This process's cgroup folder, if it may make cgroups there: cgroup v2's (``controller``
    None), or that of the cgroup v1 hierarchy holding ``controller``."""
    try:
        membership = [line.split(":", 2) for line in Path("/proc/self/cgroup").read_text().splitlines()]
        mounts = [line.split() for line in Path("/proc/self/mountinfo").read_text().splitlines()]
        path = next(
            path
            for _, names, path in membership
            if (names == "" if controller is None else controller in names.split(","))
        )
        mount = next(
            Path(fields[4])
            for fields in mounts
            if "-" in fields
            and (
                fields[fields.index("-") + 1] == "cgroup2"
                if controller is None
                else fields[fields.index("-") + 1] == "cgroup" and controller in fields[-1].split(",")
            )
        )
    except (OSError, StopIteration, ValueError):
        return None
    own = mount / path.lstrip("/")
    probe = own / f"{_CGROUP_PREFIX}probe-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError:
        return None
    return own


def _enable_memory_v2(cgroups: Path) -> bool:
    """Whether job cgroups under ``cgroups`` can have ``memory.max``: the controller is there and
    may be enabled for the subtree (refused where ``cgroups`` itself holds processes)."""
    try:
        if "memory" not in (cgroups / "cgroup.controllers").read_text().split():
            return False
        (cgroups / "cgroup.subtree_control").write_text("+memory")
        return True
    except OSError:
        return False


def _job_user_problem(python: str, jobs: Path) -> str | None:
    """Why a job user could not run the job interpreter with the Braket SDK, or reach the job
    folders (every folder above the data dir must let others pass), or None."""
    try:
        probe = subprocess.run(
            # Finding the packages reads the interpreter, its library and site-packages as the job
            # would, in 50 ms; importing them would cost every start a second.
            [python, "-c", _PROBE, str(jobs)],
            user=JOB_UID_BASE,
            group=JOB_UID_BASE,
            extra_groups=[],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"},
            cwd="/",
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as error:
        return f"a job user cannot start {python}: {error}"
    if probe.returncode != 0:
        return f"a job user cannot run {python}: {probe.stderr.decode(errors='replace').strip()[-300:]}"
    return None
