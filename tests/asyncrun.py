"""``run(coro)``: asyncio.run, also where the thread already runs an event loop.

Under pytest-xdist a worker may hold the browser tests' Playwright session (its sync API keeps an
event loop running on the main thread) when an API test runs coroutines of its own; asyncio.run
refuses there, so the coroutine runs on a thread of its own instead.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor


def run(coro):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
