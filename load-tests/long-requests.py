#!/usr/bin/env python3
"""Holds N concurrent requests open through a proxy whose backends answer slowly; counts the answers.

Usage: long-requests.py PORT N TIMEOUT_SECONDS. Prints 'ok=<n> failed=<n>' when every request has ended (or the
timeout passed). Loopback only; bounded in count and time.
"""
import asyncio
import sys

PORT, N, TIMEOUT = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])


async def one(i):
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(f"GET /job/{i} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data.startswith(b"HTTP/1.1 200")


async def main():
    results = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(N)), return_exceptions=True), TIMEOUT)
    ok = sum(1 for r in results if r is True)
    print(f"ok={ok} failed={N - ok}", flush=True)


asyncio.run(main())
