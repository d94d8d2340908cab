-- Schema 5: instances, their events, timers and open asks live in the Durable Task server now (dt_* tables, its own
-- scripts in CareWorkflows.TaskHub); the previous runtime's tables go. The message log (outbox), idempotency keys
-- (commands), documents, inbound replies and the directories stay.
DROP TABLE IF EXISTS asks;
DROP TABLE IF EXISTS timers;
DROP TABLE IF EXISTS events;
DROP TABLE IF EXISTS instances;
