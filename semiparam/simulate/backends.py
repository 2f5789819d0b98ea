"""Execution back-ends of the study runner: serial, loky (local processes), dask, ray.

Every back-end offers one operation: ``imap_unordered(fn, tasks)``, a generator of
``(task, fn(task))`` in completion order that pulls a new task from the (lazy) ``tasks``
iterator only when a slot frees up.  At most ``window`` tasks are in flight (default: four
per worker), so the driver can size later chunks from the timing of earlier ones and stop
submitting a cell's chunks once it hit its failure cap.  Results do not depend on the
back-end: every replication draws from its own content-derived stream (``seeds.py``), and
the driver stores records by (cell, replication), not by arrival.

* ``serial``: in this process, in order.
* ``loky``: joblib's reusable process pool (``joblib.externals.loky``), ``n_workers``
  processes.
* ``dask``: a ``distributed.Client``; ``address=None`` starts a ``LocalCluster`` of
  ``n_workers`` single-threaded worker processes, otherwise connects to the scheduler at
  ``address`` (e.g. ``"tcp://host:8786"``).  Needs the ``dask`` extra.
* ``ray``: ``ray.init()`` locally with ``n_workers`` CPUs, or ``ray.init(address=...)`` on a
  cluster.  Needs the ``ray`` extra.
"""

from __future__ import annotations

import importlib
import os

__all__ = ["BACKENDS", "get_backend", "SerialBackend", "LokyBackend", "DaskBackend",
           "RayBackend"]


def _require(module: str, extra: str):
    try:
        return importlib.import_module(module)
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"The {extra!r} back-end needs {module!r}; install it with "
            f"`pip install semiparam[{extra}]`.") from err


class _Backend:
    name = "base"

    def __init__(self, n_workers=None, address=None, window=None):
        if address is not None and self.name in ("serial", "loky"):
            raise ValueError(f"The {self.name!r} back-end takes no address.")
        if n_workers is not None and (not isinstance(n_workers, int) or n_workers < 1):
            raise ValueError(f"n_workers must be a positive int or None; got {n_workers!r}.")
        self.address = address
        self.n_workers = n_workers or (1 if self.name == "serial" else os.cpu_count() or 1)
        self.window = window or 4 * self.n_workers

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        pass


class SerialBackend(_Backend):
    name = "serial"

    def imap_unordered(self, fn, tasks):
        for t in tasks:
            yield t, fn(t)


class _FutureBackend(_Backend):
    """Shared windowed loop over futures; subclasses give ``_submit`` and ``_wait``."""

    def imap_unordered(self, fn, tasks):
        tasks = iter(tasks)
        pending = {}
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < self.window:
                    t = next(tasks, None)
                    if t is None:
                        exhausted = True
                        break
                    pending[self._submit(fn, t)] = t
                if not pending:
                    return
                for fut in self._wait(list(pending)):
                    t = pending.pop(fut)
                    yield t, self._result(fut)
        finally:
            if pending:  # interrupted or failed: drop the work in flight
                self._abort(list(pending))

    def _abort(self, futs):
        for f in futs:
            f.cancel()


class LokyBackend(_FutureBackend):
    name = "loky"

    def __init__(self, n_workers=None, address=None, window=None):
        super().__init__(n_workers, address, window)
        from joblib.externals.loky import get_reusable_executor

        self._ex = get_reusable_executor(max_workers=self.n_workers, timeout=60)

    def _submit(self, fn, t):
        return self._ex.submit(fn, t)

    def _wait(self, futs):
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(futs, return_when=FIRST_COMPLETED)
        return done

    def _result(self, fut):
        return fut.result()

    def _abort(self, futs):
        # running chunks cannot be cancelled; stop the workers instead of waiting for them
        self._ex.shutdown(wait=False, kill_workers=True)


class DaskBackend(_FutureBackend):
    name = "dask"

    def __init__(self, n_workers=None, address=None, window=None):
        super().__init__(n_workers, address, window)
        distributed = _require("distributed", "dask")
        self._own = address is None
        if self._own:
            self._cluster = distributed.LocalCluster(
                n_workers=self.n_workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=40)
            self.client = distributed.Client(self._cluster)
        else:
            self.client = distributed.Client(address)
            n = len(self.client.scheduler_info().get("workers", {}))
            if window is None and n:
                self.window = 4 * n
        self._wait_mod = distributed

    def _submit(self, fn, t):
        return self.client.submit(fn, t, pure=False)

    def _wait(self, futs):
        res = self._wait_mod.wait(futs, return_when="FIRST_COMPLETED")
        return res.done

    def _result(self, fut):
        return fut.result()

    def close(self):
        self.client.close()
        if self._own:
            self._cluster.close()


class RayBackend(_FutureBackend):
    name = "ray"

    def __init__(self, n_workers=None, address=None, window=None):
        super().__init__(n_workers, address, window)
        ray = _require("ray", "ray")
        self._ray = ray
        self._own = not ray.is_initialized()
        if self._own:
            if address is None:
                ray.init(num_cpus=self.n_workers, include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
            else:
                ray.init(address=address, log_to_driver=False)
        self._remote = {}

    def _submit(self, fn, t):
        if fn not in self._remote:
            self._remote[fn] = self._ray.remote(num_cpus=1)(fn)
        return self._remote[fn].remote(t)

    def _wait(self, futs):
        done, _ = self._ray.wait(futs, num_returns=1)
        return done

    def _result(self, fut):
        return self._ray.get(fut)

    def _abort(self, futs):
        for f in futs:
            self._ray.cancel(f, force=True)

    def close(self):
        if self._own:
            self._ray.shutdown()


BACKENDS = {b.name: b for b in (SerialBackend, LokyBackend, DaskBackend, RayBackend)}


def get_backend(name, n_workers=None, address=None, window=None) -> _Backend:
    """A back-end by name (``"serial"``, ``"loky"``, ``"dask"``, ``"ray"``)."""
    if name not in BACKENDS:
        raise ValueError(f"Unknown backend {name!r}; choose one of {sorted(BACKENDS)}.")
    return BACKENDS[name](n_workers=n_workers, address=address, window=window)
