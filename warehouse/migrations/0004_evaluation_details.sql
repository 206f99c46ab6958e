-- Evaluations in two modes ('existing': the held-out page is archived; 'cold_start':
-- it is new, only its text and metadata are used) with bootstrap confidence intervals.
-- Both modes of one evaluation share its evaluation_id, so the mode is part of the key.
-- DuckDB cannot change a primary key: the table is copied into a new one.
-- Rows stored before this migration were all of the 'existing' protocol. A row written
-- later without a mode keeps mode NULL (not recorded): the key is therefore a UNIQUE
-- constraint (NULL modes never collide) rather than a PRIMARY KEY.
ALTER TABLE evaluations RENAME TO evaluations_0003;

CREATE TABLE evaluations (
    evaluation_id INTEGER NOT NULL,
    model_id      VARCHAR,
    created_at    TIMESTAMP NOT NULL,
    split         VARCHAR NOT NULL,
    method        VARCHAR NOT NULL,
    metric        VARCHAR NOT NULL,
    value         DOUBLE NOT NULL,
    n_queries     INTEGER NOT NULL,
    mode          VARCHAR,            -- 'existing', 'cold_start'; NULL: not recorded
    ci_low        DOUBLE,             -- bootstrap confidence interval; NULL: none
    ci_high       DOUBLE,
    UNIQUE (evaluation_id, mode, method, metric)
);

INSERT INTO evaluations
SELECT evaluation_id, model_id, created_at, split, method, metric, value, n_queries,
       'existing', NULL, NULL
FROM evaluations_0003;

DROP TABLE evaluations_0003;
