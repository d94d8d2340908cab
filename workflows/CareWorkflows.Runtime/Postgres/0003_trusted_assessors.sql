-- CareWorkflows schema 3 (PostgreSQL): the trusted-assessor registry (B 4.2.7–4.2.9, App G.1) and the packages they may adjust.
-- Shipped migrations are never edited: changes go in a new numbered file.

-- trusted_assessors: provider staff who may propose support-plan adjustments. Qualified = LBB trusted-assessor
-- training done and at least a Level 2 diploma in care (App G.1); only active, qualified assessors may propose.
CREATE TABLE trusted_assessors (
    id                     TEXT    NOT NULL PRIMARY KEY,
    provider_id            TEXT    NOT NULL,
    name                   TEXT    NOT NULL,
    email                  TEXT    NOT NULL,
    lbb_training_completed BOOLEAN NOT NULL,
    diploma_level          BIGINT  NOT NULL,
    active                 BOOLEAN NOT NULL,
    created_at             BIGINT  NOT NULL,
    updated_at             BIGINT  NOT NULL
);
-- serves GET /api/trusted-assessors?providerId=
CREATE INDEX ix_trusted_assessors_provider ON trusted_assessors (provider_id);

-- care_packages: packages by id with the provider delivering them and the weekly hours now in effect.
-- Hours are kept as whole hundredths of an hour (2 dp, exact). adjustment_reference names the latest trusted-assessor
-- adjustment (TA-xxxxx) whose state sets the hours; only that instance may move them.
CREATE TABLE care_packages (
    id                   TEXT    NOT NULL PRIMARY KEY,
    provider_id          TEXT    NOT NULL,
    weekly_hours_centi   BIGINT  NOT NULL,
    low_level            BOOLEAN NOT NULL,
    moving_and_handling  BOOLEAN NOT NULL,
    adjustment_reference TEXT    NULL,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL
);
-- serves GET /api/packages?providerId=
CREATE INDEX ix_care_packages_provider ON care_packages (provider_id);
