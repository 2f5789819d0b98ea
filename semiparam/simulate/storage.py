"""Crash-safe storage of a simulation study: one SQLite file.

Why SQLite (standard library) rather than Parquet files or DuckDB:

* **Atomic chunks.** Each finished chunk of replications is written in one transaction:
  its result rows, its error/warning records and the rows that mark its replications done.
  SQLite's rollback journal (or WAL) makes that all-or-nothing even when the process is
  killed with SIGKILL mid-write; the next open rolls an unfinished transaction back.  A
  resume reads the ``replications`` table and runs exactly the (cell, replication) pairs not
  in it, so nothing is lost or duplicated; primary keys on ``(cell, rep)`` and
  ``(cell, rep, method)`` make a duplicate impossible rather than merely unlikely.
* **Exact values.** Outputs are stored as JSON text; Python writes floats with ``repr``, which
  round-trips every double bit for bit (NaN and infinities included).
* **No dependency, one file.** Parquet would need pyarrow (about 100 MB) and many small files
  (one per chunk) with a rename-to-commit protocol and a compaction step; DuckDB would add
  a dependency for analytics the study does not need (results fit in memory as a DataFrame).

Only the process that drives the study writes; workers return their records to it.

Tables::

    meta(key PRIMARY KEY, value)                       -- JSON: entropy, methods, factors, ...
    cells(cell_id PRIMARY KEY, key UNIQUE, cell)       -- canonical key and the cell's JSON
    replications(cell_id, rep, failed, PRIMARY KEY(cell_id, rep))     -- a finished replication
    results(cell_id, rep, method, ok, seconds, outputs, PRIMARY KEY(cell_id, rep, method))
    events(id, cell_id, rep, method, kind, category, message, traceback, seed)
"""

from __future__ import annotations

import json
import os
import sqlite3

__all__ = ["StudyStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cells (cell_id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL,
                                  cell TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS replications (cell_id INTEGER NOT NULL, rep INTEGER NOT NULL,
                                         failed INTEGER NOT NULL, PRIMARY KEY (cell_id, rep));
CREATE TABLE IF NOT EXISTS results (cell_id INTEGER NOT NULL, rep INTEGER NOT NULL,
                                    method TEXT NOT NULL, ok INTEGER NOT NULL,
                                    seconds REAL, outputs TEXT NOT NULL,
                                    PRIMARY KEY (cell_id, rep, method));
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, cell_id INTEGER,
                                   rep INTEGER, method TEXT, kind TEXT, category TEXT,
                                   message TEXT, traceback TEXT, seed TEXT);
"""


class StudyStore:
    """The SQLite file of one study (``path=None``: in memory).

    ``path`` may name the file itself or a directory (then ``study.sqlite`` inside it).
    """

    FILENAME = "study.sqlite"

    def __init__(self, path=None, *, create=True):
        if path is None:
            self.path = ":memory:"
        else:
            path = os.fspath(path)
            if os.path.isdir(path) or not os.path.splitext(path)[1]:
                if not create and not os.path.isdir(path):
                    raise FileNotFoundError(f"No study store at {path!r}.")
                os.makedirs(path, exist_ok=True)
                path = os.path.join(path, self.FILENAME)
            if not create and not os.path.exists(path):
                raise FileNotFoundError(f"No study store at {path!r}.")
            self.path = path
        self.con = sqlite3.connect(self.path, isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL" if self.path != ":memory:" else
                         "PRAGMA journal_mode=MEMORY")
        self.con.execute("PRAGMA synchronous=NORMAL")
        self.con.executescript(_SCHEMA)

    # -- metadata -----------------------------------------------------------------------
    def get_meta(self) -> dict:
        return {k: json.loads(v) for k, v in self.con.execute("SELECT key, value FROM meta")}

    def set_meta(self, **items):
        with self.transaction():
            self.con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                 [(k, json.dumps(v)) for k, v in items.items()])

    # -- cells --------------------------------------------------------------------------
    def register_cells(self, keys, cells_json) -> list:
        """Cell ids for the given canonical keys (new cells are appended)."""
        with self.transaction():
            for key, cj in zip(keys, cells_json):
                self.con.execute("INSERT OR IGNORE INTO cells (key, cell) VALUES (?, ?)",
                                 (key, cj))
            ids = dict(self.con.execute("SELECT key, cell_id FROM cells"))
        return [ids[k] for k in keys]

    def cells(self) -> list:
        """``[(cell_id, key, cell_dict)]`` in insertion order."""
        return [(i, k, json.loads(c)) for i, k, c in
                self.con.execute("SELECT cell_id, key, cell FROM cells ORDER BY cell_id")]

    # -- progress -----------------------------------------------------------------------
    def done(self) -> dict:
        """``{cell_id: set of finished replications}``."""
        out: dict = {}
        for cid, rep in self.con.execute("SELECT cell_id, rep FROM replications"):
            out.setdefault(cid, set()).add(rep)
        return out

    def failures(self) -> dict:
        """``{cell_id: number of failed replications}``."""
        return dict(self.con.execute(
            "SELECT cell_id, SUM(failed) FROM replications GROUP BY cell_id"))

    # -- writing ------------------------------------------------------------------------
    def transaction(self):
        return _Transaction(self.con)

    def write_chunk(self, cell_id: int, records: list):
        """Write the records of one finished chunk in one transaction.

        Each record: ``{"rep", "failed", "rows": [(method, ok, seconds, outputs_json)],
        "events": [(method, kind, category, message, traceback, seed_json)]}``.
        """
        with self.transaction():
            for rec in records:
                rep = rec["rep"]
                self.con.executemany(
                    "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)",
                    [(cell_id, rep, m, int(ok), s, o) for m, ok, s, o in rec["rows"]])
                self.con.executemany(
                    "INSERT INTO events (cell_id, rep, method, kind, category, message, "
                    "traceback, seed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(cell_id, rep, *ev) for ev in rec["events"]])
                self.con.execute("INSERT INTO replications VALUES (?, ?, ?)",
                                 (cell_id, rep, int(rec["failed"])))

    # -- reading ------------------------------------------------------------------------
    def result_rows(self):
        return self.con.execute(
            "SELECT cell_id, rep, method, ok, seconds, outputs FROM results "
            "ORDER BY cell_id, rep").fetchall()

    def event_rows(self):
        return self.con.execute(
            "SELECT cell_id, rep, method, kind, category, message, traceback, seed "
            "FROM events ORDER BY cell_id, rep, id").fetchall()

    def close(self):
        self.con.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an exception)."""

    def __init__(self, con):
        self.con = con

    def __enter__(self):
        self.con.execute("BEGIN IMMEDIATE")
        return self.con

    def __exit__(self, exc_type, exc, tb):
        self.con.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
