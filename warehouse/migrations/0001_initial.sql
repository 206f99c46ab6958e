-- The first schema: crawls, fetches, raw captures, articles and their versions,
-- editorial related links, and what the recommender produced.

CREATE SEQUENCE crawl_run_ids START 1;
CREATE TABLE crawl_runs (
    run_id        INTEGER PRIMARY KEY DEFAULT nextval('crawl_run_ids'),
    site          VARCHAR NOT NULL,
    profile       VARCHAR NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    status        VARCHAR NOT NULL DEFAULT 'running',  -- running, finished, partial, failed
    pages_fetched INTEGER NOT NULL DEFAULT 0,
    errors        INTEGER NOT NULL DEFAULT 0,
    articles_new  INTEGER NOT NULL DEFAULT 0,
    versions_new  INTEGER NOT NULL DEFAULT 0,
    links_new     INTEGER NOT NULL DEFAULT 0,
    stats         JSON
);

-- Raw pages as served, compressed, stored once per distinct content.
CREATE TABLE captures (
    content_hash  VARCHAR PRIMARY KEY,
    compression   VARCHAR NOT NULL,  -- 'zlib'
    body          BLOB NOT NULL,
    bytes         INTEGER NOT NULL
);

CREATE SEQUENCE fetch_ids START 1;
CREATE TABLE fetches (
    fetch_id      BIGINT PRIMARY KEY DEFAULT nextval('fetch_ids'),
    run_id        INTEGER NOT NULL,
    url           VARCHAR NOT NULL,
    final_url     VARCHAR,
    status        INTEGER,
    fetched_at    TIMESTAMP NOT NULL,
    content_type  VARCHAR,
    encoding      VARCHAR,
    etag          VARCHAR,
    last_modified VARCHAR,
    content_hash  VARCHAR,
    bytes         INTEGER,
    error         VARCHAR,
    is_article    BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX fetches_url ON fetches (url);

-- Another URL that leads to the same page (a redirect, a canonical link).
CREATE TABLE url_aliases (
    alias_url     VARCHAR PRIMARY KEY,
    url           VARCHAR NOT NULL,
    reason        VARCHAR NOT NULL,  -- 'redirect' or 'canonical'
    last_seen_run INTEGER NOT NULL
);

CREATE TABLE articles (
    url               VARCHAR PRIMARY KEY,  -- canonical URL
    site              VARCHAR NOT NULL,
    first_seen_run    INTEGER NOT NULL,
    last_seen_run     INTEGER NOT NULL,
    first_seen_at     TIMESTAMP NOT NULL,
    last_seen_at      TIMESTAMP NOT NULL,
    gone_at           TIMESTAMP,
    latest_version_id BIGINT
);

CREATE SEQUENCE version_ids START 1;
CREATE TABLE article_versions (
    version_id          BIGINT PRIMARY KEY DEFAULT nextval('version_ids'),
    url                 VARCHAR NOT NULL,
    content_hash        VARCHAR NOT NULL,
    run_id              INTEGER NOT NULL,
    fetch_id            BIGINT NOT NULL,
    fetched_at          TIMESTAMP NOT NULL,
    title               VARCHAR NOT NULL,
    lead                VARCHAR,
    body                VARCHAR,
    published_at        TIMESTAMP,
    published_source    VARCHAR,
    published_precision VARCHAR,
    modified_at         TIMESTAMP,
    modified_source     VARCHAR,
    modified_precision  VARCHAR,
    rubrique            VARCHAR,
    tags                VARCHAR[],
    author              VARCHAR,
    language            VARCHAR,
    canonical_url       VARCHAR,
    sources             VARCHAR[],
    theme               VARCHAR,
    theme_url           VARCHAR,
    UNIQUE (url, content_hash)
);

-- One row per editorial edge (source page -> target URL); attributes are the latest seen.
CREATE TABLE related_links (
    source_url                 VARCHAR NOT NULL,
    target_url                 VARCHAR NOT NULL,
    position                   INTEGER NOT NULL,
    anchor_text                VARCHAR NOT NULL,
    displayed_age              VARCHAR,
    target_published_at        TIMESTAMP,
    target_published_precision VARCHAR,
    heading                    VARCHAR,
    source_version_id          BIGINT,
    first_seen_run             INTEGER NOT NULL,
    last_seen_run              INTEGER NOT NULL,
    PRIMARY KEY (source_url, target_url)
);

CREATE TABLE models (
    model_id     VARCHAR PRIMARY KEY,
    created_at   TIMESTAMP NOT NULL,
    method       VARCHAR NOT NULL,
    params       JSON,
    n_articles   INTEGER NOT NULL,
    path         VARCHAR
);

CREATE TABLE recommendations (
    model_id     VARCHAR NOT NULL,
    source_url   VARCHAR NOT NULL,
    rank         INTEGER NOT NULL,
    target_url   VARCHAR NOT NULL,
    score        DOUBLE NOT NULL,
    shared_terms VARCHAR[],
    PRIMARY KEY (model_id, source_url, rank)
);

CREATE SEQUENCE evaluation_ids START 1;
CREATE TABLE evaluations (
    evaluation_id INTEGER NOT NULL,
    model_id      VARCHAR,
    created_at    TIMESTAMP NOT NULL,
    split         VARCHAR NOT NULL,
    method        VARCHAR NOT NULL,
    metric        VARCHAR NOT NULL,
    value         DOUBLE NOT NULL,
    n_queries     INTEGER NOT NULL,
    PRIMARY KEY (evaluation_id, method, metric)
);
