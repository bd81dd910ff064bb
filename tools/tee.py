"""Copy a child process's output to our own stdout and to the end of a log file, line by line.

``make run`` shows signaling's log in the terminal (between gunicorn's lines) and keeps it in
``var/signaling.log`` as well, for ``python -m signaling.logs``. The copy runs in a thread; it ends
when the child closes its output (it exits), and closes the file then.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import IO


class Tee:
    """Copies ``source`` to ``echo`` (our stdout) and appends it to ``path``."""

    def __init__(self, source: IO[bytes], path: Path, echo: IO[bytes] | None = None) -> None:
        self.source = source
        self.echo = echo if echo is not None else sys.stdout.buffer
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("ab")
        self.thread = threading.Thread(target=self._copy, name=f"tee {path.name}", daemon=True)
        self.thread.start()

    def _copy(self) -> None:
        echoing = True
        try:
            for line in iter(self.source.readline, b""):
                self.file.write(line)
                self.file.flush()
                if echoing:
                    try:
                        self.echo.write(line)
                        self.echo.flush()
                    except (OSError, ValueError):  # the terminal went away: keep the file going
                        echoing = False
        finally:
            self.file.close()
            self.source.close()

    def join(self, timeout: float) -> None:
        """Wait until the child's output has ended and every line is in the file."""
        self.thread.join(timeout)
