-- Votes are appended in batches: which process wrote each one (writer) and in which of its
-- batches. When Redis loses its counters, they are rebuilt with each writer's last batch, so a
-- batch that is in the ledger but not yet in the counters is added once, not twice.
ALTER TABLE votes ADD COLUMN IF NOT EXISTS writer TEXT;
ALTER TABLE votes ADD COLUMN IF NOT EXISTS batch BIGINT;
