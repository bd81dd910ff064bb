"""``python -m tests.support.skewed_clock ARGS``: ``python -m signaling ARGS`` on a wall clock set
``WATERCOOLER_CLOCK_AHEAD`` seconds ahead (negative: behind), as on a host whose clock is off.

Only ``time.time`` moves, as a host's clock does; monotonic time, which the server's timers use,
does not.
"""

from __future__ import annotations

import os
import runpy
import sys
import time

AHEAD = float(os.environ["WATERCOOLER_CLOCK_AHEAD"])
_real_time = time.time


def _skewed_time() -> float:
    return _real_time() + AHEAD


time.time = _skewed_time
sys.argv[0] = "signaling"
runpy.run_module("signaling", run_name="__main__", alter_sys=True)
