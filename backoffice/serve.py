"""Run an aiohttp app until SIGINT/SIGTERM, printing the address it really bound."""

from __future__ import annotations

import asyncio
import signal
import ssl

from aiohttp import web

from backoffice.logs import AccessLogger


async def serve(app: web.Application, host: str, port: int, name: str,
                ssl_context: ssl.SSLContext | None = None,
                shutdown_timeout: float = 30.0) -> None:
    """Serve until a signal; then stop accepting, let in-flight requests finish (up to
    ``shutdown_timeout`` seconds) and run the app's cleanup."""
    runner = web.AppRunner(app, handle_signals=False, access_log_class=AccessLogger,
                           shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        # A deep accept queue: a thousand stores reconnecting at once must not find it full.
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context, backlog=1024)
        await site.start()
        bound = runner.addresses[0] if runner.addresses else (host, port)
        scheme = "https" if ssl_context else "http"
        print(f"{name} listening on {scheme}://{bound[0]}:{bound[1]}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print(f"{name} shutting down", flush=True)
    finally:
        await runner.cleanup()
