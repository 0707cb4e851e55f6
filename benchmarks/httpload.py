"""A small keep-alive HTTP/1.1 load client on asyncio, cheap enough to leave the CPU to the server.

Benchmarks only: it speaks just what the benchmarks send (Content-Length bodies, no chunking).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass
class Result:
    count: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


Request = tuple[str, str, bytes, dict[str, str]]  # method, path, body, headers


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def send(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        got: dict[str, str] = {}
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                got[k.strip().lower()] = v.strip()
        length = int(got.get("content-length", "0"))
        payload = await self.reader.readexactly(length) if length else b""
        return status, payload, got

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def run(
    host: str,
    port: int,
    requests: Sequence[Request],
    *,
    concurrency: int,
    check: Callable[[int], bool] = lambda s: s < 300,
) -> Result:
    """Send every request over ``concurrency`` keep-alive connections; latency per request."""
    queue: asyncio.Queue[Request] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker() -> None:
        conn = Connection(host, port)
        await conn.open()
        try:
            while True:
                try:
                    method, path, body, headers = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                status, _, _ = await conn.send(method, path, body, headers)
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            await conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - start
    bad = {s: n for s, n in statuses.items() if not check(s)}
    if bad:
        raise RuntimeError(f"unexpected statuses {bad}")
    return Result(len(requests), seconds, latencies, statuses)
