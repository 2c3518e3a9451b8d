"""Evidence files kept by the platform, under one root, named by URI `evidence/<folder>/<file>`."""
import re
import uuid
from pathlib import Path

URI_PREFIX = "evidence/"
# What `save` names files: evidence/<folder>/<32 hex digits><suffix>. Nothing else is one of ours.
OWN_URI = re.compile(r"evidence/[A-Za-z0-9_-]{1,64}/[0-9a-f]{32}\.(?:jpg|png|webp)")


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, *, folder: str, data: bytes, suffix: str) -> str:
        """Write `data` under `folder` with a fresh name; returns its URI."""
        relative = Path(folder) / f"{uuid.uuid4().hex}{suffix}"
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return URI_PREFIX + relative.as_posix()

    def path_of(self, uri: str) -> Path | None:
        """The file behind a URI of this store, or None (another holder's URI, a path escaping the root, gone)."""
        if not uri.startswith(URI_PREFIX):
            return None
        root = self.root.resolve()
        path = (root / uri.removeprefix(URI_PREFIX)).resolve()
        return path if root in path.parents and path.is_file() else None
