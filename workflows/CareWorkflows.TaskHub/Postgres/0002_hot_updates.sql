-- Durable Task server schema 2 (PostgreSQL): let a step's updates of dt_instances be HOT (heap-only) updates.
-- Every step updates its instance's row twice (the claim takes the lock, the commit writes the step and frees it).
-- In schema 1 both changed lock_owner, a column of the partial index ix_dt_instances_lock, so no update could be HOT:
-- each wrote a new index entry in every index of the table (four) and left dead ones for vacuum.

-- The claim now reads the claimed instances' history and messages by the ids its own UPDATE returns, not by the lock
-- token, so nothing needs to find rows by lock_owner any more.
DROP INDEX IF EXISTS ix_dt_instances_lock;

-- Room on each page for the new versions of its rows, so an update that changes no indexed column (every step between an
-- instance's first and its last: status and completed_at stay the same) finds space on the same page and stays HOT.
-- Applies to pages written from now on (an existing table is not rewritten).
ALTER TABLE dt_instances SET (fillfactor = 70);
