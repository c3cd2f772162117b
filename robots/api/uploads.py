"""The uploads area: files callers sent with `POST /uploads`, the only files (besides an operator's
ROBOTS_API_FILES_DIR) a flow run through the API may be given.

Each upload is ROBOTS_HOME/uploads/<id>/<name> (the client's file name, cleaned) with ROBOTS_HOME/uploads/<id>.json
beside it: who sent it (the owner: its portal session, or the token without one; and its tenant), its size and
SHA-256. Only its owner can give an upload id to a flow; to anyone else the id is unknown."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

UPLOAD_ID = re.compile(r"^upl_[0-9a-f]{24}$")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_name(name: str) -> str:
    """The client's file name without any folder, control character or leading dot (at most 120 characters,
    keeping the end, where the extension is); `upload` when nothing is left."""
    base = re.split(r"[/\\]", name)[-1]
    base = _UNSAFE.sub("_", base).strip().lstrip(".")
    return base[-120:] or "upload"


class Uploads:
    def __init__(self, home: Path) -> None:
        self.root = Path(home) / "uploads"

    def save(self, source: BinaryIO, name: str, *, owner: str, tenant: str | None) -> dict[str, Any]:
        """Copy `source` into a new upload of `owner`; its id, name, size and SHA-256."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        upload_id = "upl_" + secrets.token_hex(12)
        folder = self.root / upload_id
        folder.mkdir(mode=0o700)
        name = clean_name(name)
        digest = hashlib.sha256()
        size = 0
        # A new file, never one already there or a link: the id is fresh and the folder this call's own.
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        meta = {"upload_id": upload_id, "name": name, "size": size, "sha256": digest.hexdigest(), "owner": owner,
                "tenant": tenant, "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
        # Written last, through a rename: an upload without its record (a crash midway) is no upload.
        part = self.root / f".{upload_id}.json.part"
        part.write_text(json.dumps(meta))
        part.replace(self.root / f"{upload_id}.json")
        return {k: meta[k] for k in ("upload_id", "name", "size", "sha256")}

    def path(self, upload_id: str, *, owner: str, tenant: str | None) -> Path | None:
        """The stored file of `upload_id` when `owner` (of `tenant`) sent it; else None."""
        if not UPLOAD_ID.match(upload_id):
            return None
        try:
            meta = json.loads((self.root / f"{upload_id}.json").read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("owner") != owner or meta.get("tenant") != tenant:
            return None
        path = self.root / upload_id / clean_name(str(meta.get("name", "")))
        if path.is_symlink() or not path.is_file():
            return None
        return path
