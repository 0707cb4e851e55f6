"""The dashboard's static files (the page, its ES modules, styles, vendored libraries), served by the platform.

Files come from the package (``static/``), are read once and answered with a content hash as ETag (a browser
revalidates and gets 304). The page forbids anything but this origin (Content-Security-Policy): no CDN, no tile
server, no outside request can slip in.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path

from smartcity.hub.errors import ResourceNotFound

STATIC = Path(__file__).parent / "static"
PAGE = "index.html"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE files
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


class Assets:
    def __init__(self, root: Path = STATIC) -> None:
        self.root = root.resolve()
        self._cache: dict[str, Asset] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Asset:
        """The file ``name`` (a path relative to the static folder); ResourceNotFound outside it or when absent."""
        with self._lock:
            found = self._cache.get(name)
        if found is not None:
            return found
        if not name or len(name) > 200 or "\\" in name or any(part in ("", ".", "..") for part in name.split("/")):
            raise ResourceNotFound(f"no dashboard file {name[:200]!r}")
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ResourceNotFound(f"no dashboard file {name[:200]!r}")
        media_type = TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        body = path.read_bytes()
        asset = Asset(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        with self._lock:
            self._cache[name] = asset
        return asset
