"""Starting and stopping the demo's real processes (``python -m backoffice ...``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Service:
    name: str
    process: asyncio.subprocess.Process
    url: str
    log_path: Path


async def start_service(name: str, args: list[str], url: str, log_path: Path,
                        startup_seconds: float = 30.0) -> Service:
    """Start ``backoffice ARGS`` and wait until its /healthz answers."""
    log = log_path.open("ab")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "backoffice", *args, stdout=log, stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    finally:
        log.close()
    service = Service(name=name, process=process, url=url, log_path=log_path)
    deadline = asyncio.get_running_loop().time() + startup_seconds
    async with aiohttp.ClientSession() as session:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"{name} exited with status {process.returncode}; see "
                                   f"{log_path}:\n{_tail(log_path)}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url + "/healthz") as resp:
                    if resp.status == 200:
                        return service
            if asyncio.get_running_loop().time() > deadline:
                await stop_service(service)
                raise RuntimeError(f"{name} did not answer {url}/healthz within "
                                   f"{startup_seconds:.0f} s; see {log_path}")
            await asyncio.sleep(0.1)


async def stop_service(service: Service, grace_seconds: float = 10.0) -> None:
    """SIGTERM (graceful), then SIGKILL if it does not stop in time."""
    process = service.process
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace_seconds)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def run_command(args: list[str]) -> tuple[int, str]:
    """Run ``backoffice ARGS`` to completion; return its status and combined output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backoffice", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200"})
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode("utf-8", "replace")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
