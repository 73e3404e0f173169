"""``braket-local``: run the local Braket Hybrid Jobs service."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from airflow_provider_braket.local.config import (
    DEFAULT_HOST,
    DEFAULT_LOG_BYTES_MAX,
    DEFAULT_LOG_EVENTS_MAX,
    DEFAULT_MAX_REQUEST_MB,
    DEFAULT_PORT,
    DataDirInUse,
    LocalServiceConfig,
    default_data_dir,
    hold_data_dir,
)
from airflow_provider_braket.local.quantum_task_limits import QuantumTaskLimits

#: The quantum task settings: ``--quantum-task-<name>`` or ``BRAKET_LOCAL_QUANTUM_TASK_<NAME>``.
#: Their former names, ``--task-<name>`` and ``BRAKET_LOCAL_TASK_<NAME>``, are still read and
#: deprecated ("task" alone means an Airflow task: docs/architecture.md, Glossary).
_QUANTUM_TASK_FLAGS: tuple[tuple[str, type[int] | type[float], float, str], ...] = (
    ("workers", int, 2, "quantum tasks simulated at once, each in a worker process of its own"),
    ("memory-mib", int, 0, "memory running quantum tasks may take together (default: half the machine's)"),
    ("timeout", float, 600, "seconds one quantum task may simulate before it fails"),
    ("max-statements", int, 100_000, "OpenQASM statements one program may interpret, loops unrolled"),
    ("max-program-kib", int, 1024, "largest quantum task program (the action) accepted"),
    ("check-timeout", float, 30, "seconds CreateQuantumTask may spend checking a program"),
)


#: Numeric limits of ``serve``: flag, type, default, help. Each is also read from the
#: environment as ``BRAKET_LOCAL_<FLAG>`` (``--log-mib-max``: ``BRAKET_LOCAL_LOG_MIB_MAX``).
_LIMIT_FLAGS: tuple[tuple[str, type[int] | type[float], float, str], ...] = (
    (
        "--max-request-mb",
        int,
        DEFAULT_MAX_REQUEST_MB,
        "largest request body accepted, in MiB; larger ones are refused before they are read",
    ),
    (
        "--job-retention-hours",
        float,
        24 * 7,
        "hours an ended job's folder is kept (its record, outputs and logs are kept regardless)",
    ),
    (
        "--log-events-max",
        int,
        DEFAULT_LOG_EVENTS_MAX,
        "CloudWatch Logs events kept at most, over all streams; past it the oldest streams' "
        "events go first (every line of a job stays in its folder)",
    ),
    (
        "--log-mib-max",
        int,
        DEFAULT_LOG_BYTES_MAX >> 20,
        "MiB of CloudWatch Logs messages kept at most, over all streams",
    ),
)


class _FormerFlagName(argparse.Action):
    """Stores the value; a flag given by its former name says which name replaced it."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: Any = None
    ) -> None:
        if isinstance(option, str) and option.startswith("--task-"):
            print(f"braket-local: {option} is deprecated; use --quantum{option[1:]}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def _add_quantum_task_flag(
    serve: argparse.ArgumentParser, name: str, kind: type[int] | type[float], default: float, text: str
) -> None:
    variable = name.upper().replace("-", "_")
    from_env = os.environ.get(f"BRAKET_LOCAL_QUANTUM_TASK_{variable}")
    if from_env is None and (former := os.environ.get(f"BRAKET_LOCAL_TASK_{variable}")) is not None:
        print(
            f"braket-local: BRAKET_LOCAL_TASK_{variable} is deprecated; "
            f"use BRAKET_LOCAL_QUANTUM_TASK_{variable}",
            file=sys.stderr,
        )
        from_env = former
    serve.add_argument(
        f"--quantum-task-{name}",
        f"--task-{name}",
        dest=f"quantum_task_{variable.lower()}",
        type=kind,
        default=kind(from_env if from_env is not None else default),
        action=_FormerFlagName,
        help=text,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="braket-local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="serve Braket, S3, CloudWatch Logs, IAM and STS on one endpoint"
    )
    env = os.environ.get
    serve.add_argument(
        "--host", default=env("BRAKET_LOCAL_HOST", DEFAULT_HOST), help="bind address (loopback)"
    )
    serve.add_argument("--port", type=int, default=int(env("BRAKET_LOCAL_PORT", DEFAULT_PORT)))
    serve.add_argument(
        "--data-dir", type=Path, default=Path(env("BRAKET_LOCAL_DATA_DIR", default_data_dir()))
    )
    serve.add_argument("--access-key", default=env("BRAKET_LOCAL_ACCESS_KEY", "testing"))
    serve.add_argument(
        "--secret-key-env",
        default="BRAKET_LOCAL_SECRET_KEY",
        help="name of the environment variable holding the secret key (default value: 'testing'); "
        "a secret is never taken on the command line, where ps would show it",
    )
    serve.add_argument(
        "--admin-token-env",
        default="BRAKET_LOCAL_ADMIN_TOKEN",
        help="name of the environment variable holding the token the /_local/ admin endpoints "
        "require to change faults or limits; needed to bind to anything but loopback; unset, a new "
        "token is made at every start into <data-dir>/admin-token (mode 0600)",
    )
    serve.add_argument("--region", default=env("BRAKET_LOCAL_REGION", "us-east-1"))
    serve.add_argument(
        "--python", default=env("BRAKET_LOCAL_PYTHON", sys.executable), help="interpreter of jobs"
    )
    serve.add_argument("--job-slots", type=int, default=int(env("BRAKET_LOCAL_JOB_SLOTS", 2)))
    serve.add_argument("--job-quota", type=int, default=int(env("BRAKET_LOCAL_JOB_QUOTA", 3)))
    for name, kind, default, text in _QUANTUM_TASK_FLAGS:
        _add_quantum_task_flag(serve, name, kind, default, text)
    serve.add_argument("--cancel-grace", type=float, default=3.0, help="seconds between SIGTERM and SIGKILL")
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="OP:KIND=P,...",
        help="inject faults, e.g. 'GetJob:throttle=0.1,error=0.05,drop=0.05,latencyMs=200' ('*' = every op)",
    )
    serve.add_argument("--fault-seed", type=int, default=None)
    serve.add_argument(
        "--price-list",
        type=Path,
        default=env("BRAKET_LOCAL_PRICE_LIST"),
        help="AWS's Braket offer file (index.csv) to serve to the SDK's Tracker inside jobs; "
        "default: the snapshot the package ships (airflow_provider_braket/pricing/SOURCES.md)",
    )
    for flag, kind, default, text in _LIMIT_FLAGS:
        variable = "BRAKET_LOCAL_" + flag.removeprefix("--").upper().replace("-", "_")
        serve.add_argument(flag, type=kind, default=kind(env(variable, default)), help=text)
    serve.add_argument(
        "--job-memory-mib",
        type=int,
        default=int(env("BRAKET_LOCAL_JOB_MEMORY_MIB", 0)) or None,
        help="memory limit of a job's processes together, instead of its instance type's "
        "(where a memory controller is available)",
    )
    serve.add_argument("--no-verify-signatures", action="store_true", help="accept unsigned requests")
    serve.add_argument("--log-level", default=env("BRAKET_LOCAL_LOG_LEVEL", "info"))
    return parser


#: The distributions of the ``[local]`` extra, by the module each provides.
LOCAL_EXTRA_MODULES = {
    "braket.aws": "amazon-braket-sdk",
    "braket.default_simulator": "amazon-braket-default-simulator",
    "moto.server": "moto[server]",
    "uvicorn": "uvicorn",
    "a2wsgi": "a2wsgi",
    "psutil": "psutil",
}


def _missing_local_extra() -> list[str]:
    from importlib.util import find_spec

    missing = []
    for module, distribution in LOCAL_EXTRA_MODULES.items():
        try:
            found = find_spec(module) is not None
        except ModuleNotFoundError:  # the parent package is missing
            found = False
        if not found:
            missing.append(distribution)
    return missing


def main(argv: list[str] | None = None) -> int:
    missing = _missing_local_extra()
    if missing:
        print(
            f"braket-local: the local Braket service needs {', '.join(missing)}, which the provider "
            "alone does not install: pip install 'airflow-provider-braket[local]'",
            file=sys.stderr,
        )
        return 2
    args = _parser().parse_args(argv)
    # Job records, uploads and job folders are the user's alone, as in their AWS account.
    os.umask(0o077)
    import uvicorn

    from airflow_provider_braket.local.server.app import LocalService
    from airflow_provider_braket.local.server.faults import FaultSettings, parse_fault_flag
    from airflow_provider_braket.pricing.price_list import PriceListError

    config = LocalServiceConfig(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir.expanduser().resolve(),
        access_key=args.access_key,
        secret_key=os.environ.get(args.secret_key_env, "testing"),
        region=args.region,
        python=args.python,
        job_slots=args.job_slots,
        concurrent_job_quota=args.job_quota,
        quantum_task_workers=args.quantum_task_workers,
        quantum_task_limits=QuantumTaskLimits(
            memory_bytes=args.quantum_task_memory_mib << 20,
            timeout_seconds=args.quantum_task_timeout,
            max_statements=args.quantum_task_max_statements,
            max_program_bytes=args.quantum_task_max_program_kib << 10,
            check_seconds=args.quantum_task_check_timeout,
        ),
        cancel_grace_seconds=args.cancel_grace,
        verify_signatures=not args.no_verify_signatures,
        max_request_bytes=args.max_request_mb << 20,
        admin_token=os.environ.get(args.admin_token_env) or None,
        job_retention_seconds=args.job_retention_hours * 3600,
        job_memory_bytes=args.job_memory_mib << 20 if args.job_memory_mib else None,
        log_events_max=args.log_events_max,
        log_bytes_max=args.log_mib_max << 20,
        price_list=args.price_list.expanduser().resolve() if args.price_list else None,
    )
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not config.on_loopback:
        if not config.admin_token:
            print(
                f"braket-local: --host {config.host} is reachable from other machines; set "
                f"{args.admin_token_env} to a token for the /_local/ admin endpoints (faults, limits), "
                "or bind to 127.0.0.1",
                file=sys.stderr,
            )
            return 2
        logging.getLogger("braket-local").warning(
            "bound to %s: reachable from other machines. Braket, S3, Logs and IAM need SigV4 "
            "signatures with this service's key; /_local/ admin endpoints need the admin token; "
            "traffic is plain HTTP",
            config.host,
        )
    try:
        lock = hold_data_dir(config.data_dir)
    except DataDirInUse as error:
        print(f"braket-local: {error}", file=sys.stderr)
        return 2
    try:
        service = LocalService(config)
    except PriceListError as error:
        print(f"braket-local: --price-list: {error}", file=sys.stderr)
        return 2
    if args.fault:
        service.faults.configure(
            FaultSettings(
                operations=dict(parse_fault_flag(flag) for flag in args.fault), seed=args.fault_seed
            )
        )
    try:
        uvicorn.run(
            service, host=config.host, port=config.port, log_level=args.log_level.lower(), access_log=False
        )
    finally:
        lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
