"""A task worker process: checks and simulates quantum task programs, one request at a time.

The service starts these (``python -m airflow_provider_braket.local.execution.quantum_task_worker``) and talks
to each over its stdin and stdout in frames (a 4-byte big-endian length, then a JSON object), so a program
that crashes the simulator, runs away or takes all the memory it may takes this process alone: the service
kills it and starts another (:mod:`~airflow_provider_braket.local.execution.quantum_task_processes`).

A request is ``{"op": "check" | "run", "memory_bytes": n, ...}``; the answer is
``{"ok": true, "value": ...}`` or ``{"ok": false, "kind": "refused" | "failed", "reason": ...}``.
``memory_bytes`` is the request's budget over what the warm process already holds, enforced as
``RLIMIT_AS``, so an allocation past it raises MemoryError in the simulator instead of taking the
machine's memory.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import threading
import time
import warnings
from typing import IO, Any

_HEADER = struct.Struct(">I")
#: Largest frame either side accepts: a results.json of 100,000 shots of 34 qubits is ~7 MB.
MAX_FRAME_BYTES = 256 << 20


class FrameError(Exception):
    """The other side closed its end or sent something that is not a frame."""


def write_frame(stream: IO[bytes], message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def read_frame(stream: IO[bytes]) -> dict[str, Any]:
    header = _read_exactly(stream, _HEADER.size)
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise FrameError(f"a frame of {length} bytes is over the limit of {MAX_FRAME_BYTES}")
    message = json.loads(_read_exactly(stream, length))
    if not isinstance(message, dict):
        raise FrameError("a frame must hold a JSON object")
    return message


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise FrameError("the other side closed the pipe")
        data += chunk
    return data


def main() -> int:
    # Frames go on the original stdout; anything a library prints goes to stderr (the service log).
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    _exit_with_parent()
    warnings.filterwarnings("ignore", module="braket")  # advice to users of LocalSimulator, not ours
    if (sys.argv[1] if len(sys.argv) > 1 else "simulator") == "simulator":
        _warm_up()
    else:
        import braket.default_simulator.openqasm.interpreter  # noqa: F401
    write_frame(channel, {"ok": True, "value": {"ready": True, "pid": os.getpid()}})
    while True:
        try:
            request = read_frame(requests)
        except FrameError:
            return 0
        write_frame(channel, _answer(request))


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    from airflow_provider_braket.local.execution.simulation import ProgramRefused, TaskFailure

    limit_set = _limit_memory(int(request.get("memory_bytes") or 0))
    try:
        return {"ok": True, "value": _handle(request)}
    except ProgramRefused as refused:
        return {"ok": False, "kind": "refused", "reason": str(refused)}
    except TaskFailure as failure:
        return {"ok": False, "kind": "failed", "reason": str(failure)}
    except MemoryError:
        return {"ok": False, "kind": "failed", "reason": "the program ran out of its memory budget"}
    except Exception as error:  # a bug of ours or the simulator's: the task fails, the worker goes on
        return {"ok": False, "kind": "failed", "reason": f"{type(error).__name__}: {error}"[:1024]}
    finally:
        if limit_set:
            _unlimit_memory()


def _handle(request: dict[str, Any]) -> Any:
    from airflow_provider_braket.local.execution.simulation import check_program, run_program

    arguments = (
        request["device_arn"],
        request["action_type"],
        request["action"],
        int(request["shots"]),
        request.get("device_parameters"),
    )
    if request["op"] == "check":
        return check_program(*arguments, max_statements=int(request["max_statements"]))
    if request["op"] == "run":
        document = run_program(*arguments, request["task_arn"], max_statements=int(request["max_statements"]))
        return document.decode()
    if request["op"] == "sleep":  # tests: a task that holds its worker, to be killed
        time.sleep(float(request["seconds"]))
        return None
    raise ValueError(f"unknown op {request['op']!r}")


def _limit_memory(budget: int) -> bool:
    """Cap this process's address space at what it holds now plus ``budget`` bytes."""
    if budget <= 0:
        return False
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = _address_space() + budget
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    return True


def _unlimit_memory() -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _exit_with_parent() -> None:
    """Leave when the service is gone, even in the middle of a simulation."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _warm_up() -> None:
    """Import the simulators and compile their kernels now, not in a user's first task.

    An 11-qubit run starts numba's parallel kernels (used above 10 qubits) and their threads,
    so the address space measured for a task's memory cap already holds them.
    """
    from airflow_provider_braket.local.execution.simulation import run_program

    source = "OPENQASM 3.0;\nqubit[11] q;\nh q;\ncnot q[0], q[10];\n#pragma braket result probability q[0]\n"
    action = json.dumps({"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"},
                         "source": source})  # fmt: skip
    for device in ("sv1", "dm1"):
        small = (
            source.replace("qubit[11]", "qubit[2]").replace("q[10]", "q[1]") if device == "dm1" else source
        )
        program = action if device == "sv1" else json.dumps({**json.loads(action), "source": small})
        run_program(f"arn:aws:braket:::device/quantum-simulator/amazon/{device}",
                    "braket.ir.openqasm.program", program, 10, None, "warm-up")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
