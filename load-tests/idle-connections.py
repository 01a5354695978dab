#!/usr/bin/env python3
"""Opens N keep-alive connections to a proxy, sends one small request on each, and holds them idle.

Usage: idle-connections.py PORT N HOLD_SECONDS. Prints 'ready' once every connection has its response, then
holds for HOLD_SECONDS and exits. Loopback only; bounded in count and time.
"""
import asyncio
import sys

PORT, N, HOLD = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])


async def one(i, opened):
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(b"GET /idle HTTP/1.1\r\nHost: bench\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    opened.append(writer)


async def main():
    opened = []
    sem = asyncio.Semaphore(500)

    async def bounded(i):
        async with sem:
            await one(i, opened)

    await asyncio.wait_for(asyncio.gather(*(bounded(i) for i in range(N))), timeout=120)
    print("ready", len(opened), flush=True)
    await asyncio.sleep(HOLD)
    for w in opened:
        w.close()


asyncio.run(main())
