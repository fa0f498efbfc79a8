"""Keras-style training feedback: a per-epoch progress bar that never floods a log.

``verbose=1`` on a terminal redraws one line (at most ten times a second); ``verbose=2``, or
any stream that is not a terminal (CI logs, pipes), prints one line per epoch; ``verbose=0``
prints nothing.  Throughput counts only the steps that ran compiled code: the step that
compiled the train function is reported once, on its own line, instead of dragging down
the first epoch's figures.
"""
from __future__ import annotations

import sys
import time

_REDRAW_EVERY_S = 0.1
_BAR_WIDTH = 20


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def format_duration(seconds: float) -> str:
    """``'1m 04s'``, ``'12s'``, ``'850ms'``: Keras's coarse style for elapsed times."""
    if seconds >= 60:
        return f"{int(seconds // 60)}m {int(seconds % 60):02d}s"
    if seconds >= 1:
        return f"{seconds:.0f}s"
    return f"{seconds * 1e3:.0f}ms"


def format_per_step(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


class ProgressBar:
    """One epoch's bar.  ``update(step, logs, samples)`` after each batch, ``finish(logs)`` at
    the end (``logs`` then includes the validation metrics).  ``total_steps=None``: the
    count is not known yet (a generator's first epoch), shown as ``12/Unknown`` as Keras
    does, and the final line gives the steps that ran."""

    def __init__(self, total_steps, *, verbose: int = 1, stream=None):
        self.total = None if total_steps is None else max(int(total_steps), 0)
        self.stream = sys.stdout if stream is None else stream
        self.verbose = verbose
        self.live = verbose == 1 and _is_terminal(self.stream)
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._excluded_s = 0.0   # time spent compiling, left out of per-step figures
        self._excluded_steps = 0
        self._samples = 0
        self._step = 0

    def exclude(self, seconds: float, steps: int = 1) -> None:
        """Leave a compiling step out of the time-per-step and throughput figures."""
        self._excluded_s += seconds
        self._excluded_steps += steps

    def update(self, step: int, logs: dict, samples: int = 0) -> None:
        self._step = step
        self._samples += samples
        if not self.live:
            return
        now = time.perf_counter()
        if now - self._last_draw >= _REDRAW_EVERY_S or \
                (self.total is not None and step >= self.total):
            self._last_draw = now
            self.stream.write("\r" + self._line(logs) + "\x1b[K")
            self.stream.flush()

    def finish(self, logs: dict) -> None:
        if self.verbose == 0:
            return
        if self.total is None:
            self.total = self._step
        line = self._line(logs)
        self.stream.write(("\r" + line + "\x1b[K\n") if self.live else line + "\n")
        self.stream.flush()

    def _line(self, logs: dict) -> str:
        elapsed = time.perf_counter() - self.start
        if self.total is None:
            parts = [f"{self._step:7d}/Unknown"]
        else:
            width = len(str(self.total))
            parts = [f"{self._step:{width}d}/{self.total}"]
        if self.live and self.total is not None:
            done = _BAR_WIDTH * self._step // max(self.total, 1)
            parts[0] += " [" + "=" * done + "." * (_BAR_WIDTH - done) + "]"
        parts.append(format_duration(elapsed))
        timed_steps = self._step - self._excluded_steps
        timed_s = elapsed - self._excluded_s
        if timed_steps > 0 and timed_s > 0:
            parts[-1] += " " + format_per_step(timed_s / timed_steps)
        text = " ".join(parts)
        if logs:
            text += " - " + format_logs(logs)
        if timed_s > 0 and self._samples and timed_steps > 0:
            per_step_samples = self._samples / max(self._step, 1)
            text += f" - {per_step_samples * timed_steps / timed_s:,.0f} samples/s"
        return text
