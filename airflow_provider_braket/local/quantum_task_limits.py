"""What one quantum task may take of this machine: memory, time, program size, interpreted steps.

Each limit is a setting of the service (``braket-local serve --help``); docs/local-service.md
gives the defaults and why. AWS publishes none of these for its simulators beyond the qubit
counts and shots ranges the device documents carry, which are checked as the devices say.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MIB = 1 << 20
#: Peak resident memory of a task over its state's size, rounded up from what
#: benchmarks/task_isolation.py measured on amazon-braket-default-simulator 1.41.2 (state vector
#: 2.0-2.7x, density matrix 4.2-4.7x from 10 qubits on; docs/benchmarks.md): the simulator holds
#: the state, a work copy and the probabilities; the density matrix's superoperators take more.
PEAK_OVER_STATE = {"state_vector": 3.0, "density_matrix": 5.0}
#: What a task holds besides its state: parse tree, circuit, the results document.
TASK_OVERHEAD_BYTES = 96 * MIB
#: Bytes per measured bit while the results document is built (lists of Python ints, then JSON).
BYTES_PER_MEASURED_BIT = 48


def default_memory_bytes() -> int:
    """Half the machine's physical memory: the rest stays for the service, jobs and the system."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError):
        return 4096 * MIB


@dataclass(frozen=True)
class QuantumTaskLimits:
    """Limits of quantum tasks in the local service.

    :param memory_bytes: memory all running tasks may take together; a task whose estimate is over
        it is refused at CreateQuantumTask, one that fits waits in the queue until it fits beside
        the running ones, and each worker is capped at its task's estimate (``RLIMIT_AS``).
    :param timeout_seconds: wall-clock time one task may simulate; past it the task FAILS.
    :param max_statements: OpenQASM statements one program may interpret, loops unrolled.
    :param max_program_bytes: size of a task's ``action``.
    :param check_seconds: time CreateQuantumTask may spend checking a program.
    :param checkers: worker processes that check programs for CreateQuantumTask.
    """

    memory_bytes: int = 0
    timeout_seconds: float = 600.0
    max_statements: int = 100_000
    max_program_bytes: int = 1 * MIB
    check_seconds: float = 30.0
    checkers: int = 2

    def __post_init__(self) -> None:
        if self.memory_bytes <= 0:
            object.__setattr__(self, "memory_bytes", default_memory_bytes())

    @property
    def check_memory_bytes(self) -> int:
        """What a program check may allocate: a parse tree and a circuit, never a state."""
        return 1024 * MIB


def task_memory_bytes(method: str, qubits: int, shots: int) -> int:
    """The memory a task is expected to peak at: its state times the measured peak factor."""
    state = 16 * (4**qubits if method == "density_matrix" else 2**qubits)
    return (
        int(state * PEAK_OVER_STATE[method])
        + shots * max(qubits, 1) * BYTES_PER_MEASURED_BIT
        + TASK_OVERHEAD_BYTES
    )


def describe_bytes(size: int) -> str:
    return f"{size / (1 << 30):.2f} GiB" if size >= 1 << 30 else f"{size / MIB:.0f} MiB"
