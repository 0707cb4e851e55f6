"""A small HTTP/1.1 client on asyncio streams for the demo's calls to its own server over loopback.

The demo only needs plain HTTP to 127.0.0.1 with a JSON body and the answer's status and body, on kept-alive
connections (httpx is a development dependency only). No TLS, redirects, proxies or chunked request bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024


class HttpError(Exception):
    """The server could not be reached or answered something that is not HTTP."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()

    async def exchange(self, request: bytes) -> tuple[Answer, bool]:
        self.writer.write(request)
        await self.writer.drain()
        while True:
            head = await self.reader.readuntil(b"\r\n\r\n")
            status, keep, length, chunked = _parse_head(head)
            if status >= 200:
                break
        if chunked:
            body = await self._chunked()
        elif length is not None:
            body = await self.reader.readexactly(length)
        elif status in (204, 304):
            body = b""
        else:
            body = await self.reader.read()
            keep = False
        return Answer(status, body), keep

    async def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            line = await self.reader.readuntil(b"\r\n")
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while await self.reader.readuntil(b"\r\n") != b"\r\n":
                    pass
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


def _parse_head(head: bytes) -> tuple[int, bool, int | None, bool]:
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0].split(" ", 2)
    if len(first) < 2 or not first[0].startswith("HTTP/1.") or not first[1].isdigit():
        raise HttpError(f"malformed answer {lines[0][:80]!r}")
    keep = first[0] == "HTTP/1.1"
    length: int | None = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "content-length" and value.isdigit():
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            keep = keep and "close" not in value.lower()
    return int(first[1]), keep, length, chunked


class HttpClient:
    """Requests to one ``host:port``; up to ``max_idle`` kept-alive connections are reused."""

    def __init__(self, host: str, port: int, *, timeout: float = 30.0, max_idle: int = 16) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.max_idle = max_idle
        self._idle: list[_Connection] = []

    async def request(
        self, method: str, target: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Answer:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + (body or b"")
        for attempt in range(2):
            reused = bool(self._idle)
            conn = self._idle.pop() if reused else await self._connect()
            try:
                async with asyncio.timeout(self.timeout):
                    answer, keep = await conn.exchange(request)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                conn.close()
                if reused and attempt == 0:
                    continue  # the server closed an idle connection: once more on a new one
                raise HttpError(f"{method} {target}: the connection broke ({exc!r})") from exc
            except TimeoutError as exc:
                conn.close()
                raise HttpError(f"{method} {target}: no answer within {self.timeout:g} s") from exc
            except BaseException:
                conn.close()
                raise
            if keep and len(self._idle) < self.max_idle:
                self._idle.append(conn)
            else:
                conn.close()
            return answer
        raise HttpError(f"{method} {target}: the server keeps closing connections")

    async def _connect(self) -> _Connection:
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port, limit=MAX_HEAD)
        except (OSError, TimeoutError) as exc:
            raise HttpError(f"cannot connect to {self.host}:{self.port}: {exc!r}") from exc
        return _Connection(reader, writer)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
            with contextlib.suppress(OSError):
                await conn.writer.wait_closed()
