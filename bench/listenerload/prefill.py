"""Stored sessions for our side, made in SQL (100,000 sessions = 1M trials, 6M signals/ratings).

Each prefilled session is a finished one of the benchmark's test: 10 trials (one per item, each
with the test's 6 conditions under opaque ids), 60 ratings and a questionnaire, as the listener
path would have left it. The inserts skip the per-row foreign-key triggers
(session_replication_role = replica: the rows are made consistent by construction) and run in
batches, one transaction each. Columns are read from the database, so a NOT NULL column added by
a later migration gets a neutral value instead of breaking the prefill; the counters the server
keeps beside the rows (the test's session counter, per-item loads) are moved on when present.
"""

import time

import psycopg
from psycopg.types.numeric import Int8

BATCH = 25_000  # sessions per transaction
QUESTIONNAIRE = (
    '{"age_band": "25-34", "headphones": "closed headphones", '
    '"native_language": "English", "comment": ""}'
)
NEUTRAL = {  # a value for a NOT NULL column without default that the prefill does not know
    "character varying": "''",
    "text": "''",
    "integer": "0",
    "smallint": "0",
    "bigint": "0",
    "boolean": "false",
    "double precision": "0",
    "jsonb": "'{}'::jsonb",
    "timestamp with time zone": "now()",
}

SESSION = {
    "test_id": "%(test)s",
    "token": "'prefill-' || %(test)s || '-' || (%(base)s + g)",
    "number": "%(base)s + g",
    "seed": "(random() * 9e18)::bigint",
    "participant_id": "'prefill-' || (%(base)s + g)",
    "participant_source": "'PROLIFIC_PID'",
    "preview": "false",
    "stage": "'done'",
    "questionnaire": f"'{QUESTIONNAIRE}'::jsonb",
    "created_at": "now()",
    "consented_at": "now()",
    "finished_at": "now()",
    "last_active_at": "now()",
    "trials_started_at": "now()",
    "outcome": "'completed'",
}
TRIAL = {
    "session_id": "s.id",
    "position": "p",
    "utterance_id": "(%(items)s::bigint[])[((s.number + p) %% %(n_items)s) + 1]",
    "training": "false",
    "reference_public_id": "'r' || s.id || '-' || p",
    "submitted_at": "now()",
    "submission_key": "'prefill-' || s.id || '-' || p",
}
SIGNAL = {
    "trial_id": "t.id",
    "condition_id": "c.id",
    "stimulus_id": "cs.stimulus_id",
    "public_id": "'s' || t.id || '-' || c.k",
    "order": "(c.k + t.position + s.number) %% %(n_conditions)s",
}
RATING = {
    "session_id": "s.id",
    "trial_id": "t.id",
    "condition_id": "c.id",
    "score": "CASE c.role WHEN 'reference' THEN 100 WHEN 'anchor_low' THEN 15 "
    "ELSE floor(random() * 90) END",
    "plays": "1",
    "listening_ms": "4000",
    "created_at": "now()",
}
# The rows one batch made: ids above those in use before it (no other writer runs meanwhile).
NEW_SESSIONS = "s.id > %(session_base)s"
NEW_TRIALS = "t.id > %(trial_base)s"
CONDITIONS = (
    "(SELECT id, role, row_number() OVER (ORDER BY id) - 1 AS k "
    "FROM mushra_condition WHERE test_id = %(test)s) c"
)
SIGNALS_OF_BATCH = (
    "FROM mushra_trial t JOIN mushra_session s ON s.id = t.session_id "
    f"JOIN {CONDITIONS} ON true JOIN mushra_conditionstimulus cs "
    f"ON cs.condition_id = c.id AND cs.utterance_id = t.utterance_id WHERE {NEW_TRIALS}"
)
TABLES = ("mushra_session", "mushra_trial", "mushra_trialsignal", "mushra_rating")


def columns(conn: psycopg.Connection, table: str) -> dict[str, tuple[bool, str]]:
    """column -> (needs a value: NOT NULL without default, data type)."""
    rows = conn.execute(
        "SELECT column_name, is_nullable = 'NO' AND column_default IS NULL "
        "AND is_identity = 'NO', data_type FROM information_schema.columns "
        "WHERE table_name = %s",
        (table,),
    ).fetchall()
    return {name: (required, kind) for name, required, kind in rows}


def select_list(conn: psycopg.Connection, table: str, known: dict[str, str]) -> tuple[str, str]:
    """The column list and value expressions for an INSERT ... SELECT into `table`."""
    cols, exprs = [], []
    for name, (required, kind) in columns(conn, table).items():
        if name in known:
            cols.append(name)
            exprs.append(known[name])
        elif required:
            if kind not in NEUTRAL:
                raise RuntimeError(f"prefill: no value for {table}.{name} ({kind})")
            cols.append(name)
            exprs.append(NEUTRAL[kind])
    return ", ".join(f'"{c}"' for c in cols), ", ".join(exprs)


def stored_sessions(conn: psycopg.Connection, test_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM mushra_session WHERE test_id = %s", (test_id,)
    ).fetchone()[0]


def prefill_to(dsn: str, test_id: int, target: int) -> tuple[int, float]:
    """Add finished sessions until the test holds `target`; (sessions added, seconds)."""
    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        stored = stored_sessions(conn, test_id)
        missing = target - stored
        if missing <= 0:
            return 0, 0.0
        conn.execute("SET maintenance_work_mem = '256MB'")
        # Building an index once is far cheaper than keeping it through millions of inserts.
        rebuild = _drop_secondary_indexes(conn) if missing > stored else []
        params, statements = _design(conn, test_id), _statements(conn)
        added = 0
        try:
            while added < missing:
                n = min(BATCH, missing - added)
                _batch(conn, statements, {**params, **_bases(conn, test_id), "n": n})
                added += n
        finally:
            for sql in rebuild:
                conn.execute(sql)
        for table in TABLES:
            conn.execute(f"ANALYZE {table}")
    return added, time.perf_counter() - t0


def _drop_secondary_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop the four tables' unique constraints and indexes (primary keys stay); returns the
    statements that recreate them exactly, names included."""
    tables = list(TABLES)
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = ANY(%s::regclass[]) AND contype = 'u'",
        (tables,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
        "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (tables,),
    ).fetchall()
    with conn.transaction():
        for table, name, _ in constraints:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition in constraints
    ]


def _design(conn: psycopg.Connection, test_id: int) -> dict:
    items = [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT utterance_id FROM mushra_conditionstimulus WHERE test_id = %s "
            "ORDER BY 1",
            (test_id,),
        )
    ]
    n_conditions = conn.execute(
        "SELECT count(*) FROM mushra_condition WHERE test_id = %s", (test_id,)
    ).fetchone()[0]
    return {"test": test_id, "items": items, "n_items": len(items), "n_conditions": n_conditions}


def _bases(conn: psycopg.Connection, test_id: int) -> dict[str, int]:
    """Where a batch starts: the highest session number in use (or handed out, where the test
    keeps a counter) and the highest session and trial ids."""
    number = conn.execute(
        "SELECT coalesce(max(number), 0) FROM mushra_session WHERE test_id = %s", (test_id,)
    ).fetchone()[0]
    if "sessions_allocated" in columns(conn, "mushra_listeningtest"):
        allocated = conn.execute(
            "SELECT sessions_allocated FROM mushra_listeningtest WHERE id = %s", (test_id,)
        ).fetchone()[0]
        number = max(number, allocated)
    session_id, trial_id = (
        conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
        for table in ("mushra_session", "mushra_trial")
    )
    return {"base": number, "session_base": session_id, "trial_base": trial_id}


def _statements(conn: psycopg.Connection) -> list[str]:
    session_cols, session_vals = select_list(conn, "mushra_session", SESSION)
    trial_cols, trial_vals = select_list(conn, "mushra_trial", TRIAL)
    signal_cols, signal_vals = select_list(conn, "mushra_trialsignal", SIGNAL)
    rating_cols, rating_vals = select_list(conn, "mushra_rating", RATING)
    statements = [
        f"INSERT INTO mushra_session ({session_cols}) "
        f"SELECT {session_vals} FROM generate_series(1, %(n)s) g",
        f"INSERT INTO mushra_trial ({trial_cols}) SELECT {trial_vals} "
        "FROM mushra_session s CROSS JOIN generate_series(0, %(n_items)s - 1) p "
        f"WHERE {NEW_SESSIONS}",
        f"INSERT INTO mushra_trialsignal ({signal_cols}) SELECT {signal_vals} {SIGNALS_OF_BATCH}",
        f"INSERT INTO mushra_rating ({rating_cols}) SELECT {rating_vals} {SIGNALS_OF_BATCH}",
    ]
    if "sessions_allocated" in columns(conn, "mushra_listeningtest"):
        statements.append(
            "UPDATE mushra_listeningtest SET sessions_allocated = "
            "greatest(sessions_allocated, %(base)s + %(n)s) WHERE id = %(test)s"
        )
    if {"test_id", "utterance_id", "assigned"} <= set(columns(conn, "mushra_itemload")):
        statements.append(
            "UPDATE mushra_itemload l SET assigned = l.assigned + x.n FROM "
            f"(SELECT t.utterance_id, count(*) AS n FROM mushra_trial t WHERE {NEW_TRIALS} "
            "GROUP BY t.utterance_id) x "
            "WHERE l.test_id = %(test)s AND l.utterance_id = x.utterance_id"
        )
    return statements


def _batch(conn: psycopg.Connection, statements: list[str], params: dict) -> None:
    # As bigint: psycopg sends a small Python int as smallint, and smallint + smallint overflows.
    params = {k: Int8(v) if isinstance(v, int) else v for k, v in params.items()}
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("SET LOCAL synchronous_commit = off")
        for sql in statements:
            conn.execute(sql, params)
