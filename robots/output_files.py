"""Files the CLI writes for the user (--output, reports, exports): checked before the work that fills them
starts, and written whole.

A target is checked up front (`check_target`), so that a typo in a path is an input error before a browser
starts, not a traceback after a write flow has written. It is written through a new temporary file created
beside it with O_EXCL (`tempfile.mkstemp`: a random name, never an existing file, never a symlink) and renamed
over it: readers never see half a file, a file or symlink planted at a predictable name (`x.json.part`) is
never written through, and a symlink at the target itself is replaced by the file, never followed."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from robots.errors import ConfigError


def check_target(path: str | os.PathLike[str], shown: str, *, make_dirs: bool = False) -> Path:
    """`path` as a file this process can create or replace; else ConfigError (an input error) that starts with
    `shown` (the option and the path as the user gave them, e.g. `--output x.json`) and says why. With
    `make_dirs`, missing folders are fine where they can be made (the nearest existing one must be a folder we
    can write in); nothing is created here either way."""
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{shown}: is a directory")
    folder = target.parent
    if make_dirs:
        while not folder.exists() and folder != folder.parent and not folder.is_symlink():
            folder = folder.parent
    if not folder.exists():
        raise ConfigError(f"{shown}: the directory {folder} does not exist")
    if not folder.is_dir():
        raise ConfigError(f"{shown}: {folder} is not a directory")
    try:  # the only test that tells for root, read-only mounts and ACLs alike: make a file there
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".check")
    except OSError as e:
        raise ConfigError(f"{shown}: cannot create a file in {folder}: {e.strerror or e}") from None
    os.close(fd)
    os.unlink(probe)
    return target


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], *, make_dirs: bool = False) -> Iterator[BinaryIO]:
    """A binary handle on a new temporary file beside `path`, renamed over `path` when the block ends without
    an error (and removed when it raises). The file gets the permissions the umask gives a new file."""
    target = Path(path)
    if make_dirs:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        # mkstemp makes the file 0600; a report or an output is for colleagues and CI too: the umask decides.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)  # rename(2) replaces a symlink at `target`; it never writes through one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(path: str | os.PathLike[str], data: bytes, *, make_dirs: bool = True) -> Path:
    """Write `data` to `path` whole (see `atomic_file`)."""
    with atomic_file(path, make_dirs=make_dirs) as handle:
        handle.write(data)
    return Path(path)
