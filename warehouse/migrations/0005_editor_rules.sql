-- Editors' rules over the suggested lists: a pin puts a target in a source's list, first,
-- whatever the model says; a block keeps a target out of a source's list, or out of every
-- list when source_url is '*'. One rule per (source, target): pinning a blocked pair
-- turns the block into a pin, and the other way round.
CREATE TABLE editor_rules (
    source_url  VARCHAR NOT NULL,  -- an archived article's URL, or '*' (blocks only)
    target_url  VARCHAR NOT NULL,
    rule        VARCHAR NOT NULL CHECK (rule IN ('pin', 'block')),
    created_at  TIMESTAMP NOT NULL,  -- pins show in the order they were made
    note        VARCHAR,
    PRIMARY KEY (source_url, target_url),
    CHECK (source_url <> '*' OR rule = 'block')
);
