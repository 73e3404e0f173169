"""Tarballs both sides handle: the source module the SDK packs, and results the service packs.

Extraction refuses the whole archive before writing anything if one member would land outside
the destination (absolute paths, ``..``, links pointing out) or is a device file: Python's
``tarfile`` ``data`` filter states the rule, we apply it to every member first.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePath


class UnsafeArchiveError(ValueError):
    """An archive member would escape the destination folder or is not a plain file/folder."""


def safe_extract(archive: Path | bytes, destination: Path) -> list[str]:
    """Extract a (gzip) tar into ``destination``, refusing it whole if any member is unsafe.

    :param archive: the archive file, or its bytes.
    :param destination: the folder to extract into; created if missing.
    :return: the member names extracted.
    :raises UnsafeArchiveError: naming the first unsafe member; nothing has been written.
    """
    destination.mkdir(parents=True, exist_ok=True)
    fileobj = io.BytesIO(archive) if isinstance(archive, bytes) else None
    with tarfile.open(name=None if fileobj else archive, fileobj=fileobj, mode="r:*") as tar:
        members = tar.getmembers()
        checked = [_checked(member, destination) for member in members]
        tar.extractall(destination, members=checked, filter="data")
    return [member.name for member in members]


def _checked(member: tarfile.TarInfo, destination: Path) -> tarfile.TarInfo:
    # The data filter would strip the leading "/" and extract inside; a packer that wrote an
    # absolute path meant something else, so the archive is refused instead.
    if member.name.startswith(("/", "\\")) or PurePath(member.name).is_absolute():
        raise UnsafeArchiveError(f"refused archive member {member.name!r}: absolute path")
    try:
        filtered = tarfile.data_filter(member, str(destination))
    except tarfile.FilterError as error:
        raise UnsafeArchiveError(f"refused archive member {member.name!r}: {error}") from None
    if filtered is None:
        raise UnsafeArchiveError(f"refused archive member {member.name!r}")
    return filtered


def pack_folder(folder: Path, archive: Path, arcname: str = "") -> Path:
    """Write ``folder``'s content as a gzip tar whose root is ``arcname`` ('' = the folder's content)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        if arcname:
            tar.add(folder, arcname=arcname)
        else:
            for child in sorted(folder.iterdir()):
                tar.add(child, arcname=child.name)
    return archive
