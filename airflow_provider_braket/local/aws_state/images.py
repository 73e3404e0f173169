"""The Braket job images the SDK looks up in ECR, served by moto's ECR behind the same endpoint.

``AwsQuantumJob.create`` and ``@hybrid_job`` use Braket's built-in images; ``@hybrid_job`` asks
ECR (``BatchGetImage``) for the ``latest`` tag of ``amazon-braket-base-jobs`` and for the tag of
the same image that names its Python version, and refuses to run when that version is not the
client's. Locally the "image" is the interpreter that runs job processes, so each repository the
installed SDK knows gets one image tagged ``latest`` and ``<version>-cpu-py<XY>-local``, where XY
is that interpreter's Python version: the check compares the client with what really runs the job.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import subprocess
from pathlib import Path
from typing import Any

from airflow_provider_braket import __version__


def builtin_repositories() -> list[str]:
    """The ECR repositories of the SDK's built-in job images (braket/jobs/image_uri_config)."""
    # Found without importing braket.jobs, whose import takes seconds (it loads braket.aws).
    spec = importlib.util.find_spec("braket.jobs")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations))) / "image_uri_config"
    return sorted(json.loads(entry.read_text())["repository"] for entry in folder.glob("*.json"))


def interpreter_tag(python: str) -> str:
    """The versioned tag of a local image: the Python version of the job interpreter."""
    version = subprocess.run(
        [python, "-c", "import sys; print(f'{sys.version_info[0]}{sys.version_info[1]}')"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{__version__}-cpu-py{version}-local"


def publish_images(ecr: Any, python: str) -> list[str]:
    """Create each built-in repository with one image under ``latest`` and the versioned tag."""
    tag = interpreter_tag(python)
    for repository in builtin_repositories():
        with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
            ecr.create_repository(repositoryName=repository)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": 0,
                    "digest": "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest(),
                },
                "layers": [],
            }
        )
        for image_tag in ("latest", tag):
            with contextlib.suppress(ecr.exceptions.ImageAlreadyExistsException):
                ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=image_tag)
    return [f"{repository}:{tag}" for repository in builtin_repositories()]
