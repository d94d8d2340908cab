-- CareWorkflows schema 2 (SQLite): the provider directory used by D2A referrals (B 1.5.2–1.5.4, App A).

-- patches: the four localities of B 1.5.4 and their wards (wards is a JSON array of names)
CREATE TABLE patches (
    name  TEXT NOT NULL PRIMARY KEY,
    wards TEXT NOT NULL
);

-- providers: one row per care provider; patches is a JSON array of patch names (empty for framework providers)
CREATE TABLE providers (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,   -- Patch | Framework
    patches      TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    mobile       TEXT    NOT NULL,
    cqc_rating   TEXT    NOT NULL,   -- Outstanding | Good | RequiresImprovement | Inadequate | NotYetRated
    active       INTEGER NOT NULL,
    weekly_hours REAL    NOT NULL,   -- hours already delivered, for the 3,000-hour ADASS cap (App A)
    updated_at   INTEGER NOT NULL
);
