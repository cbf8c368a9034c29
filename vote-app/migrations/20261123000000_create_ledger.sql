-- The ledger: every accepted vote, appended once, never updated. It outlives Redis: when Redis
-- loses its counters they are rebuilt from here.
CREATE TABLE IF NOT EXISTS votes (
    id        BIGSERIAL   PRIMARY KEY,
    choice    TEXT        NOT NULL,
    instance  TEXT        NOT NULL,
    version   TEXT        NOT NULL,
    cast_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The per-minute results view reads the last hour only.
CREATE INDEX IF NOT EXISTS votes_cast_at ON votes (cast_at);

-- Each admin reset, so that a restore counts only the votes cast after the latest one.
CREATE TABLE IF NOT EXISTS resets (
    id            BIGSERIAL   PRIMARY KEY,
    last_vote_id  BIGINT      NOT NULL,
    instance      TEXT        NOT NULL,
    reset_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
