"""Tarballs both sides handle: the source module the SDK packs, and results the service packs.

Extraction refuses the whole archive before writing anything if one member would land outside
the destination (absolute paths, ``..``, links pointing out) or is a device file: Python's
``tarfile`` ``data`` filter states the rule, we apply it to every member first. It also refuses
an archive whose members add up to more bytes, or more files, than the caller allows (a gzip
bomb is read header by header and refused at the first member past the limit), and writes
files readable by their owner only.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePath


class UnsafeArchiveError(ValueError):
    """An archive member would escape the destination folder or is not a plain file/folder."""


class ArchiveTooLargeError(UnsafeArchiveError):
    """The archive expands to more bytes or more members than allowed."""


def safe_extract(
    archive: Path | bytes,
    destination: Path,
    max_bytes: int | None = None,
    max_members: int | None = None,
) -> list[str]:
    """Extract a (gzip) tar into ``destination``, refusing it whole if any member is unsafe.

    :param archive: the archive file, or its bytes.
    :param destination: the folder to extract into; created if missing.
    :param max_bytes: most bytes the members may add up to once extracted.
    :param max_members: most members (files, folders, links) the archive may hold.
    :return: the member names extracted.
    :raises UnsafeArchiveError: naming the first unsafe member, or ArchiveTooLargeError naming
        the limit passed; nothing has been written.
    """
    destination.mkdir(parents=True, exist_ok=True)
    fileobj = io.BytesIO(archive) if isinstance(archive, bytes) else None
    with tarfile.open(name=None if fileobj else archive, fileobj=fileobj, mode="r:*") as tar:
        checked = _checked_members(tar, destination, max_bytes, max_members)
        tar.extractall(destination, members=checked, filter=_owner_only)
    return [member.name for member in checked]


def _checked_members(
    tar: tarfile.TarFile, destination: Path, max_bytes: int | None, max_members: int | None
) -> list[tarfile.TarInfo]:
    checked: list[tarfile.TarInfo] = []
    total = 0
    for member in tar:  # header by header: a bomb is refused before it is all decompressed
        total += member.size
        if max_members is not None and len(checked) >= max_members:
            raise ArchiveTooLargeError(
                f"the archive has more than {max_members} members (limit {max_members})"
            )
        if max_bytes is not None and total > max_bytes:
            raise ArchiveTooLargeError(
                f"the archive expands to more than {max_bytes} bytes (limit {max_bytes}; "
                f"reached at member {member.name!r})"
            )
        checked.append(_checked(member, destination))
    return checked


def _owner_only(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
    filtered = tarfile.data_filter(member, path)
    if filtered is None or filtered.mode is None:
        return filtered
    return filtered.replace(mode=filtered.mode & 0o700, deep=False)


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
