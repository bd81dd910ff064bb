"""The bot (``python -m peer_client --json``) as a child process, for the suites that drive it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from tests.support.processes import ROOT
from tests.support.waiting import wait_until


class Bot:
    """``python -m peer_client --json`` as a child process; its output lines, parsed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, command: list[str]) -> Bot:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            text = raw.decode().strip()
            self.raw.append(text)
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(text))

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == name]

    async def wait_line(
        self, name: str, predicate: Callable[[dict[str, Any]], bool] = lambda line: True
    ) -> dict[str, Any]:
        await wait_until(
            lambda: any(predicate(line) for line in self.events(name)) or self.exited,
            what=f"the bot to print {name!r}",
        )
        matches = [line for line in self.events(name) if predicate(line)]
        assert matches, f"the bot exited without printing {name!r}: {self.raw}"
        return matches[0]

    @property
    def exited(self) -> bool:
        return self.process.returncode is not None

    async def wait(self, timeout: float = 30.0) -> int:
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.wait_for(self._reader, 5)
        return code

    async def stderr(self) -> str:
        assert self.process.stderr is not None
        return (await self.process.stderr.read()).decode()

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
