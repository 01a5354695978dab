#!/usr/bin/env python3
"""Server-sent events, timed: how long each event takes from the upstream writing it to the client reading it.

  sse-latency.py serve PORT           an SSE upstream on 127.0.0.1:PORT: GET /events?n=N&ms=M writes N events,
                                      one every M ms, each carrying the CLOCK_MONOTONIC time it was written
  sse-latency.py read PORT N MS [PATH]  reads PATH (default /events) through 127.0.0.1:PORT; prints p50, p99 and max
                                      latency in ms (an event may carry other fields after its data, e.g. an id)

Both ends use the machine's monotonic clock, so the figures compare across processes. Loopback only; bounded by N.
"""
import asyncio
import re
import socket
import statistics
import sys
import time


async def serve(port):
    async def handle(reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if b"/health" in head.split(b"\r\n")[0]:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
                await writer.drain()
                return
            query = dict(re.findall(r"(\w+)=(\d+)", head.split(b"\r\n")[0].decode()))
            n, ms = int(query.get("n", 100)), int(query.get("ms", 20))
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                         b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            for _ in range(n):
                event = b"data: %d\n\n" % time.monotonic_ns()
                writer.write(b"%x\r\n%s\r\n" % (len(event), event))
                await writer.drain()
                await asyncio.sleep(ms / 1000)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


async def read(port, n, ms, path="/events"):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    writer.write(b"GET %s?n=%d&ms=%d HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n" % (path.encode(), n, ms))
    await writer.drain()
    latencies, pending = [], b""
    deadline = time.monotonic() + n * ms / 1000 + 30
    while len(latencies) < n and time.monotonic() < deadline:
        data = await asyncio.wait_for(reader.read(65536), timeout=30)
        now = time.monotonic_ns()
        if not data:
            break
        pending += data
        for stamp in re.findall(rb"data: (\d+)\n(?:[a-z]+:[^\n]*\n)*\n", pending):
            latencies.append((now - int(stamp)) / 1e6)
        pending = pending[pending.rfind(b"\n\n") + 2:] if b"\n\n" in pending else pending
    writer.close()
    latencies.sort()
    if len(latencies) < n:
        print(f"events={len(latencies)}/{n} INCOMPLETE")
        sys.exit(1)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"events={n} p50={statistics.median(latencies):.3f} p99={p99:.3f} max={latencies[-1]:.3f}")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        asyncio.run(serve(int(sys.argv[2])))
    else:
        asyncio.run(read(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), *sys.argv[5:6]))
