"""Progress bar with an ETA: tqdm (terminal or notebook widget via ``tqdm.auto``) when it is
installed, otherwise a one-line text bar on stderr redrawn at most a few times a second."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


def _fmt(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """``Progress(total, enabled=True)``; ``update(n)`` after ``n`` replications; ``close()``.

    The ETA is the remaining count times the mean time per replication so far (wall clock,
    so it reflects the parallelism of the back-end).
    """

    def __init__(self, total: int, *, enabled: bool = True, desc: str = "study",
                 file=None, min_interval: float = 0.2):
        self.total = int(total)
        self.n = 0
        self.enabled = bool(enabled) and self.total > 0
        self.desc = desc
        self.file = file or sys.stderr
        self.min_interval = min_interval
        self.t0 = time.perf_counter()
        self._last = 0.0
        self._bar = None
        if self.enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=self.total, desc=desc, unit="rep", file=self.file,
                                 smoothing=0.1)

    def eta(self) -> float:
        el = time.perf_counter() - self.t0
        return el / self.n * (self.total - self.n) if self.n else float("nan")

    def text(self) -> str:
        frac = self.n / self.total if self.total else 1.0
        width = 30
        fill = int(round(frac * width))
        el = time.perf_counter() - self.t0
        return (f"{self.desc}: {100 * frac:5.1f}% |{'#' * fill}{'.' * (width - fill)}| "
                f"{self.n}/{self.total} [{_fmt(el)}<{_fmt(self.eta())}]")

    def update(self, n: int = 1):
        self.n += int(n)
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.perf_counter()
        if now - self._last >= self.min_interval or self.n >= self.total:
            self._last = now
            self.file.write("\r" + self.text())
            self.file.flush()

    def skip(self, n: int):
        """``n`` replications will not run (a cell stopped at its failure cap)."""
        self.total = max(self.n, self.total - int(n))
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def close(self):
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
        else:
            self.file.write("\r" + self.text() + "\n")
            self.file.flush()
