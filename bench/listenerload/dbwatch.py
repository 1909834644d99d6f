"""Where our server's database time goes under load: pg_stat_activity, sampled.

Every few hundred milliseconds during a run, each non-idle backend of the bench database is
noted as (what it waits for, the statement's first words). The most frequent pairs show lock
waits (``Lock:transactionid``, ``Lock:tuple``) and statements that run long enough to be seen.
"""

import re
import threading
from collections import Counter

import psycopg

SAMPLE_S = 0.25
QUERY = (
    "SELECT coalesce(wait_event_type || ':' || wait_event, 'running'), state, query "
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND state <> 'idle' AND backend_type = 'client backend'"
)


def shorten(sql: str, size: int = 110) -> str:
    """The statement with literals folded, so one query shape counts once."""
    sql = re.sub(r"^SELECT .*? FROM", "SELECT … FROM", sql, flags=re.S)
    # PostgreSQL keeps only the first kilobyte of a statement: a long column list hides the rest.
    sql = re.sub(r'^SELECT "(\w+)"\."\w+", .*', r"SELECT … FROM \1 … (cut by PostgreSQL)", sql)
    sql = re.sub(r"^(INSERT INTO \S+) \(.*?\) VALUES.*", r"\1 …", sql, flags=re.S)
    sql = re.sub(r"'[^']*'", "'?'", sql)
    sql = re.sub(r"\b\d+\b", "?", sql)
    sql = re.sub(r"\s+", " ", sql).strip()
    return sql[:size]


class DbWatch:
    def __init__(self, dsn: str):
        self.dsn = dsn
        self.samples: Counter = Counter()
        self.ticks = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "DbWatch":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop.wait(SAMPLE_S):
                self.ticks += 1
                for wait, state, query in conn.execute(QUERY):
                    what = wait if state == "active" else state
                    self.samples[(what, shorten(query))] += 1

    def top(self, n: int = 4) -> list[str]:
        """Lines: backends busy on it on average, what they wait for, the statement."""
        ticks = max(self.ticks, 1)
        return [
            f"{count / ticks:5.2f}  {what:<24} {query}"
            for (what, query), count in self.samples.most_common(n)
        ]
