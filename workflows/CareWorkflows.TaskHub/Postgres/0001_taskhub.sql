-- Durable Task server schema 1 (PostgreSQL). Shipped scripts are never edited: a change is a new numbered file.
-- Times are Unix ticks (100 ns, UTC) in BIGINT columns; history and messages are protobuf bytes (Microsoft.DurableTask.Protobuf).
-- Runtime status numbers are the protocol's OrchestrationStatus: 0 Running, 1 Completed, 3 Failed, 5 Terminated, 6 Pending, 7 Suspended.

-- dt_instances: one row per orchestration instance (its current execution); the lock marks the step in flight
CREATE TABLE dt_instances (
    instance_id        TEXT    NOT NULL PRIMARY KEY,
    execution_id       TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    version            TEXT    NULL,
    status             INTEGER NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    completed_at       BIGINT NULL,
    scheduled_start_at BIGINT NULL,
    input              TEXT    NULL,
    output             TEXT    NULL,
    custom_status      TEXT    NULL,
    failure            BYTEA    NULL,
    parent_instance_id TEXT    NULL,
    tags               TEXT    NULL,
    history_count      INTEGER NOT NULL DEFAULT 0,
    last_step_at       BIGINT NULL,
    lock_owner         TEXT    NULL,
    lock_until         BIGINT NULL
);
-- serves QueryInstances (created-time range, keyset paging) and the pages' lists
CREATE INDEX ix_dt_instances_created ON dt_instances (created_at, instance_id);
-- serves purge by retention (completed before a time) and status filters
CREATE INDEX ix_dt_instances_status_completed ON dt_instances (status, completed_at);
-- serves loading a claim's history and messages in the claim's own round trip (few rows are locked at any time)
CREATE INDEX ix_dt_instances_lock ON dt_instances (lock_owner) WHERE lock_owner IS NOT NULL;
-- serves recursive terminate / purge of sub-orchestrations
CREATE INDEX ix_dt_instances_parent ON dt_instances (parent_instance_id) WHERE parent_instance_id IS NOT NULL;

-- dt_history: the append-only history of the current execution; a second writer of one step collides on this key
CREATE TABLE dt_history (
    instance_id  TEXT    NOT NULL,
    seq          BIGINT NOT NULL,
    execution_id TEXT    NOT NULL,
    event        BYTEA    NOT NULL,
    CONSTRAINT pk_dt_history PRIMARY KEY (instance_id, seq)
);

-- dt_inbox: messages waiting for an orchestration step (events, timer firings visible at their fire time, results);
-- execution_id is set on messages that belong to one execution (timers, results) so ContinueAsNew can drop them
CREATE TABLE dt_inbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id  TEXT    NOT NULL,
    execution_id TEXT    NULL,
    visible_at   BIGINT NOT NULL,
    event        BYTEA    NOT NULL
);
-- serves the dispatcher: due messages in due order, and the nearest future one (timers)
CREATE INDEX ix_dt_inbox_visible ON dt_inbox (visible_at, id);
-- serves loading one instance's messages for a step
CREATE INDEX ix_dt_inbox_instance ON dt_inbox (instance_id, id);

-- dt_tasks: activity work items; deleted when their result is recorded (so a result is recorded once)
CREATE TABLE dt_tasks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id  TEXT    NOT NULL,
    execution_id TEXT    NOT NULL,
    task_id      INTEGER NOT NULL,
    request      BYTEA    NOT NULL,
    visible_at   BIGINT NOT NULL,
    lock_owner   TEXT    NULL,
    lock_until   BIGINT NULL,
    CONSTRAINT ux_dt_tasks_task UNIQUE (instance_id, execution_id, task_id)
);
-- serves the dispatcher: unclaimed activity work in order
CREATE INDEX ix_dt_tasks_visible ON dt_tasks (visible_at, id);
