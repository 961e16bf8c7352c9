"""Uploads in progress on this computer, so that one cut off halfway can be resumed.

One small JSON file per upload in a folder of the app's configuration: which file (path,
size, modification time), which organization and storage object, and what document it is
for. No secrets and no file bytes. A file changed since (size or time differ) is not resumed.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PendingUpload:
    organization_id: uuid.UUID
    path: Path
    size: int
    modified_ns: int
    object_id: uuid.UUID
    # The document it is for: UploadRequest's fields other than the path (plain values).
    request: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, org: uuid.UUID, path: Path, size: int, object_id: uuid.UUID,
           request: dict[str, Any] | None = None) -> PendingUpload:
        return cls(org, path, size, path.stat().st_mtime_ns, object_id, dict(request or {}))

    def still_same_file(self) -> bool:
        try:
            stat = self.path.stat()
        except OSError:
            return False
        return stat.st_size == self.size and stat.st_mtime_ns == self.modified_ns


class UploadJournal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, object_id: uuid.UUID) -> Path:
        return self.folder / f"{object_id}.json"

    def record(self, item: PendingUpload) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = asdict(item)
        data.update(organization_id=str(item.organization_id), path=str(item.path),
                    object_id=str(item.object_id))
        temp = self._file(item.object_id).with_suffix(".tmp")
        temp.write_text(json.dumps(data, default=str), encoding="utf-8")
        os.replace(temp, self._file(item.object_id))

    def forget(self, object_id: uuid.UUID) -> None:
        self._file(object_id).unlink(missing_ok=True)

    def pending(self, org: uuid.UUID) -> list[PendingUpload]:
        """This organization's uploads still recorded, oldest first (unreadable ones dropped)."""
        items: list[PendingUpload] = []
        if not self.folder.is_dir():
            return items
        for path in sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
            item = _read(path)
            if item is None:
                path.unlink(missing_ok=True)
            elif item.organization_id == org:
                items.append(item)
        return items

    def find(self, org: uuid.UUID, path: Path, size: int) -> PendingUpload | None:
        """The recorded upload of this very file, if it has not changed since."""
        for item in self.pending(org):
            if item.path == path and item.size == size and item.still_same_file():
                return item
        return None


def _read(path: Path) -> PendingUpload | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return PendingUpload(uuid.UUID(data["organization_id"]), Path(data["path"]),
                             int(data["size"]), int(data["modified_ns"]),
                             uuid.UUID(data["object_id"]), dict(data.get("request") or {}))
    except (OSError, ValueError, KeyError, TypeError):
        return None
