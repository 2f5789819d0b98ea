"""Random streams of a simulation study, derived from content rather than execution order.

A study has one root :class:`numpy.random.SeedSequence` (its ``entropy`` is stored with the
results).  Replication ``r`` of a cell gets the stream

    SeedSequence(entropy=root, spawn_key=(w_1, w_2, w_3, w_4, r))

where ``w_1 .. w_4`` are the first 128 bits of the SHA-256 of the cell's canonical key (its
factor values written as sorted, canonical JSON).  The stream therefore depends on *what*
is simulated (the cell's content and the replication number), never on *when* or *where*:
the same study gives the same numbers serially, on any number of local processes, on a
dask or ray cluster, after a crash and a resume, and after cells are added to the design
(existing cells keep their streams).  Replications of one cell are independent streams in
the sense of SeedSequence spawning (distinct spawn keys), and cells with different content
get unrelated streams up to a 2^-128 hash collision.

*Common random numbers*: factors named in ``common_random_numbers`` are left out of the
key, so cells that differ only in those factors share their streams (e.g. the same
contexts and pairs for every link shift, the labels differing only through the link).

A method that needs its own randomness gets ``method_seed``: the same construction with
the method's name hashed into one more spawn-key word, so methods do not share draws with
the data-generating process or with each other.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Mapping

import numpy as np

__all__ = ["canonical", "cell_key", "replication_seed", "method_seed", "root_entropy",
           "seed_record", "rng_from_record"]


def canonical(value):
    """A JSON-ready, type-normalised copy of a factor value (numpy scalars to Python).

    Floats stay floats (``1.0`` and ``1`` are different factor levels only if their types
    differ in the design, which canonicalisation keeps); tuples become lists; dict keys are
    sorted by ``json.dumps``.  Raises ``TypeError`` for values with no faithful JSON form.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            raise TypeError(f"A design factor cannot be {v!r}.")
        return v
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return [canonical(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    raise TypeError(
        f"Design factor values must be numbers, strings, booleans, None, or lists/dicts of "
        f"them; got {type(value).__name__} ({value!r}). Put objects in the generate "
        f"function and name them by a string factor.")


def cell_key(cell: Mapping, exclude=()) -> str:
    """Canonical JSON of a cell's factors (sorted), leaving out the factors in ``exclude``."""
    return json.dumps({str(k): canonical(v) for k, v in cell.items() if k not in exclude},
                      sort_keys=True, separators=(",", ":"), allow_nan=False)


@functools.lru_cache(maxsize=4096)
def _words(text: str, n: int = 4) -> tuple:
    h = hashlib.sha256(text.encode()).digest()
    return tuple(int.from_bytes(h[4 * i:4 * i + 4], "little") for i in range(n))


def root_entropy(seed) -> int:
    """The root entropy of a study: an int seed as is, a SeedSequence's entropy, or fresh
    OS entropy for ``None`` (stored with the results so that the study can be reproduced)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, np.random.SeedSequence):
        if seed.spawn_key:
            raise ValueError("Pass a root SeedSequence (empty spawn_key) or an int seed.")
        return int(seed.entropy)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    raise ValueError(f"seed must be a non-negative int, a SeedSequence or None; got {seed!r}.")


def replication_seed(entropy: int, key: str, rep: int) -> np.random.SeedSequence:
    """The stream of replication ``rep`` of the cell with canonical key ``key``."""
    return np.random.SeedSequence(entropy, spawn_key=(*_words(key), int(rep)))


def method_seed(entropy: int, key: str, rep: int, method: str) -> np.random.SeedSequence:
    """A method's own stream in that replication (distinct from the data's stream)."""
    return np.random.SeedSequence(entropy, spawn_key=(*_words(key), int(rep), *_words(method, 1)))


def seed_record(ss: np.random.SeedSequence) -> dict:
    """What reproduces a stream: ``{"entropy": ..., "spawn_key": [...]}`` (JSON-ready)."""
    return {"entropy": int(ss.entropy), "spawn_key": [int(k) for k in ss.spawn_key]}


def rng_from_record(record: Mapping) -> np.random.Generator:
    """The Generator a recorded replication was given (see :func:`seed_record`)."""
    return np.random.default_rng(
        np.random.SeedSequence(int(record["entropy"]), spawn_key=tuple(record["spawn_key"])))
