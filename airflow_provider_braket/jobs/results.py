"""The result dictionary a job saved with ``save_job_result``, read from its output archive.

The service tars the job's results folder to ``<s3Path>/output/model.tar.gz``; ``results.json``
at its root holds ``dataDictionary`` and ``dataFormat``. ``pickled_v4`` values are base64 pickles:
unpickling runs code chosen by whoever wrote the job, so it needs an explicit ``allow_pickle``.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import tarfile
from typing import IO, Any

RESULTS_FILE = "results.json"


DEFAULT_MAX_RESULTS_BYTES = 1 << 20


class ResultsFormatError(ValueError):
    """The output archive has no readable results.json, or its format is refused."""


class ResultsTooLargeError(ValueError):
    """results.json is larger than the caller reads into memory (and into XCom).

    :param size: its size in bytes.
    :param limit: the most the caller reads.
    """

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{RESULTS_FILE} is {size} bytes, more than the {limit} bytes read into XCom")
        self.size = size
        self.limit = limit


def output_prefix(output_s3_path: str) -> str:
    """The S3 folder a job's outputs land in, for a job whose outputDataConfig.s3Path is given."""
    return f"{output_s3_path.rstrip('/')}/output/"


def results_key(output_s3_path: str) -> str:
    """The S3 URI of the results archive for a job whose outputDataConfig.s3Path is given."""
    return f"{output_prefix(output_s3_path)}model.tar.gz"


def read_results_archive(
    archive: bytes | IO[bytes], *, allow_pickle: bool = False, max_bytes: int = DEFAULT_MAX_RESULTS_BYTES
) -> dict[str, Any] | None:
    """The ``dataDictionary`` from a ``model.tar.gz``; ``None`` if the job saved no result.

    :param archive: the archive's bytes, or a stream of them (read once, front to back: the
        archive is never held in memory whole, whatever else the job put in it).
    :param max_bytes: the largest results.json read; a larger one raises ResultsTooLargeError.
    """
    stream = io.BytesIO(archive) if isinstance(archive, bytes) else archive
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for member in tar:
            if member.name.lstrip("./") != RESULTS_FILE:
                continue
            if not member.isfile():
                return None
            if member.size > max_bytes:
                raise ResultsTooLargeError(member.size, max_bytes)
            handle = tar.extractfile(member)
            if handle is None:
                return None
            document = json.loads(handle.read())
            return decode_persisted_data(document, allow_pickle=allow_pickle)
    return None


def decode_persisted_data(document: dict[str, Any], *, allow_pickle: bool = False) -> dict[str, Any]:
    """Decode a ``braket.jobs_data.persisted_job_data`` document (results or checkpoint)."""
    data = document.get("dataDictionary")
    data_format = document.get("dataFormat", "plaintext")
    if not isinstance(data, dict):
        raise ResultsFormatError(f"{RESULTS_FILE} has no dataDictionary object")
    if data_format == "plaintext":
        return data
    if data_format != "pickled_v4":
        raise ResultsFormatError(f"{RESULTS_FILE}: unknown dataFormat {data_format!r}")
    if not allow_pickle:
        raise ResultsFormatError(
            f"{RESULTS_FILE} holds pickled values (dataFormat 'pickled_v4'); unpickling runs code from "
            "the job, so it is refused unless allow_pickle=True"
        )
    return {key: pickle.loads(base64.b64decode(value)) for key, value in data.items()}
