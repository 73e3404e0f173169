"""Write (or, with ``--check``, verify) the stamp that ties the built bundle to its sources.

``make ui`` builds ``airflow_provider_braket/ui/static/braket-ui.js`` and then runs this, which
records a digest of every source the build reads and of the bundle it made. The test suite
(tests/unit/test_ui_bundle.py) recomputes both: a source changed without ``make ui``, or a bundle
edited by hand, fails it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

FRONTEND = Path(__file__).resolve().parent
STATIC = FRONTEND.parent / "airflow_provider_braket" / "ui" / "static"
BUNDLE = STATIC / "braket-ui.js"
STAMP = STATIC / "braket-ui.stamp.json"
BUILD_INPUTS = ("package.json", "package-lock.json", "tsconfig.json", "vite.config.ts")


def sources_digest() -> str:
    """SHA-256 over the path and bytes of every file the build reads, in path order."""
    files = [FRONTEND / name for name in BUILD_INPUTS] + sorted((FRONTEND / "src").rglob("*"))
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(FRONTEND).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def bundle_digest() -> str:
    return hashlib.sha256(BUNDLE.read_bytes()).hexdigest()


def stamp() -> dict[str, str]:
    return {"sources": sources_digest(), "bundle": bundle_digest()}


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        recorded = json.loads(STAMP.read_text())
        if recorded != stamp():
            sys.exit("The UI bundle is stale against frontend/: run `make ui` and commit the result.")
    else:
        STAMP.write_text(json.dumps(stamp(), indent=2) + "\n")
