"""Reading what a job wrote, without following it anywhere else.

Run as root with job users (:mod:`.containment`), the service reads folders a job owns: its
results, checkpoints and failure file. A job could leave a symbolic link there (``model/x ->
/root/.ssh/id_rsa``), or swap a folder for one while the service reads, so that the service
uploads a file the job itself may not read. So a job's file is opened without following a link,
must be a regular file, and the file actually opened (``/proc/self/fd``) must be inside the
job's folder; a link is archived as a link, never as what it points at.
"""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path
from typing import BinaryIO


class OutsideJobFolderError(OSError):
    """The path is a link, not a regular file, or resolves outside the job's folder."""


def open_inside(path: Path, folder: Path) -> BinaryIO:
    """``path`` opened for reading, if it is a regular file inside ``folder`` (no link followed)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OutsideJobFolderError(f"{path} is not a regular file")
        opened = Path(os.readlink(f"/proc/self/fd/{descriptor}"))
        if not opened.is_relative_to(folder.resolve()):
            raise OutsideJobFolderError(f"{path} is {opened}, outside {folder}")
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_inside(path: Path, folder: Path, limit: int) -> bytes | None:
    """At most ``limit`` bytes of a job's file; None if there is none, or it is not safe to read."""
    try:
        with open_inside(path, folder) as handle:
            return handle.read(limit)
    except OSError:
        return None


def pack_inside(folder: Path, archive: Path) -> Path:
    """``folder``'s content as a gzip tar (as ``pack_folder``), links stored as links."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for root, folders, files in os.walk(folder):
            folders.sort()
            for name in sorted(folders) + sorted(files):
                path = Path(root, name)
                arcname = path.relative_to(folder).as_posix()
                info = tar.gettarinfo(str(path), arcname)  # lstat: a link stays a link
                if info.isreg():
                    with open_inside(path, folder) as handle:
                        info.size = os.fstat(handle.fileno()).st_size
                        tar.addfile(info, handle)
                elif info.isdir() or info.issym():
                    tar.addfile(info)
    return archive
