"""The job's code as the Braket SDK ships it: a local file or folder, checked and tarred.

``AwsQuantumJob.create`` tars the source module with its own name as the archive root
(``tar.add(path, arcname=path.name)``, links followed) and uploads it to
``s3://<bucket>/jobs/<name>/<ts>/script/source.tar.gz``; the entry point is a module path
relative to the source module's parent, defaulting to the module's own name. Everything here
runs before any AWS call, so a missing file or an entry point that names nothing fails first.
"""

from __future__ import annotations

import ast
import io
import tarfile
from collections.abc import Iterable
from pathlib import Path

from airflow_provider_braket.jobs.models import RequestValidationError

SOURCE_ARCHIVE = "source.tar.gz"


def resolve_local_path(value: str, search_dirs: Iterable[Path] = (), argument: str = "source_module") -> Path:
    """The existing local path ``value`` names (``argument`` is the name errors give it).

    A relative path is looked up in ``search_dirs`` first (the DAG's folder, so a DAG can name its
    script next to it whatever the worker's working directory is), then in the working directory.
    """
    path = Path(value).expanduser()
    candidates = [path] if path.is_absolute() else [*(Path(d) / path for d in search_dirs), path]
    for candidate in candidates:
        if candidate.exists():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise RequestValidationError(
        f"{argument}: {value!r} does not exist (looked at {tried})",
        [(argument, "must be an existing local file or folder, or an s3:// URI")],
    )


def check_s3_source_module(source_module: str, entry_point: str | None) -> str:
    """An S3 source module must be a ``.tar.gz`` and needs an explicit entry point (SDK rule)."""
    if not source_module.lower().endswith(".tar.gz"):
        raise RequestValidationError(
            f"source_module: an S3 source module must point to a .tar.gz file (got {source_module!r})",
            [("source_module", "S3 URI must end with .tar.gz")],
        )
    if not entry_point:
        raise RequestValidationError(
            "entry_point: required when source_module is an S3 URI",
            [("entry_point", "required with an S3 source_module")],
        )
    return entry_point


def check_entry_point(source: Path, entry_point: str | None) -> str:
    """Validate ``module[:function]`` against the files of ``source``; return the entry point.

    The module must be a file or package under the source module's parent; a ``:function`` must
    be defined at the module's top level. The file is parsed, never imported: importing would run
    the user's code (and its heavy imports) on the Airflow worker.
    """
    entry_point = entry_point or source.stem
    module, _, function = entry_point.partition(":")
    module_file = _module_file(source.parent, module)
    if module_file is None or not _inside(module_file, source):
        hint = _dotted_hint(source, module, function)
        raise RequestValidationError(
            f"entry_point: module {module!r} is not found in source_module {source.name!r}{hint}",
            [("entry_point", f"module {module!r} must be a .py file or package inside {source.name!r}")],
        )
    if function and function not in _top_level_names(module_file):
        raise RequestValidationError(
            f"entry_point: {function!r} is not defined at the top level of {module_file.name}",
            [("entry_point", f"function {function!r} must exist in {module!r}")],
        )
    return entry_point


def _dotted_hint(source: Path, module: str, function: str) -> str:
    """For a folder source: the entry point written with the folder's name, if that one exists.

    As in the SDK, the entry point is a module path from the folder's parent, so a module inside
    the folder is ``<folder>.<module>``.
    """
    if not source.is_dir() or module.startswith(f"{source.name}."):
        return ""
    dotted = f"{source.name}.{module}"
    if _module_file(source.parent, dotted) is None:
        return ""
    suggestion = f"{dotted}:{function}" if function else dotted
    return f"; did you mean entry_point={suggestion!r}? (a module inside the folder is named from its parent)"


def _module_file(root: Path, module: str) -> Path | None:
    parts = module.split(".")
    if not module or not all(part.isidentifier() for part in parts):
        return None
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _inside(module_file: Path, source: Path) -> bool:
    return module_file == source or source in module_file.parents


def _top_level_names(module_file: Path) -> set[str]:
    try:
        tree = ast.parse(module_file.read_text(encoding="utf-8"), filename=str(module_file))
    except (SyntaxError, UnicodeDecodeError) as error:
        raise RequestValidationError(
            f"entry_point: {module_file.name} cannot be parsed: {error}",
            [("entry_point", "module must be valid Python")],
        ) from None
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def pack_source_module(source: Path) -> bytes:
    """``source.tar.gz`` bytes laid out as the SDK lays them out."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", dereference=True) as tar:
        tar.add(source, arcname=source.name)
    return buffer.getvalue()
