-- Link history kept right. Every reading of an article's page is recorded (page_reads:
-- by a crawl, which fetched the page or had it confirmed by a 304, or by relnews
-- reanalyse, which re-reads a stored page), and the related links each reading showed
-- (link_sightings), so that a page read without a link is told from a page not read
-- at all. related_links.first_seen_run / last_seen_run now move only with crawls:
-- a reanalysis records its sightings apart and never moves them. link_changes(a, b)
-- lists the links that appeared and disappeared between two crawls.
--
-- Archives stored before this migration knew each link's first and last run only:
-- those two sightings, and the crawl readings their fetches record, are filled in.

CREATE TABLE page_reads (
    run_id INTEGER NOT NULL,
    url    VARCHAR NOT NULL,
    kind   VARCHAR NOT NULL,  -- 'crawl' or 'reanalyse'
    PRIMARY KEY (run_id, url)
);

CREATE TABLE link_sightings (
    run_id     INTEGER NOT NULL,
    source_url VARCHAR NOT NULL,
    target_url VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL,  -- 'crawl' or 'reanalyse', as the reading's
    position   INTEGER NOT NULL,
    PRIMARY KEY (run_id, source_url, target_url)
);

-- The history known so far: crawl readings from the fetches that read an article
-- (fetched_url, or the article it names as canonical)...
INSERT INTO page_reads
SELECT DISTINCT f.run_id, coalesce(al.url, coalesce(f.final_url, f.url)), 'crawl'
FROM fetches f
JOIN crawl_runs r ON r.run_id = f.run_id
LEFT JOIN url_aliases al ON al.alias_url = coalesce(f.final_url, f.url)
WHERE f.is_article AND r.profile NOT LIKE 'reanalyse:%'
  AND coalesce(al.url, coalesce(f.final_url, f.url)) IN (SELECT url FROM articles);
-- ...each article's last reading (a reanalysis among them)...
INSERT INTO page_reads
SELECT a.last_seen_run, a.url,
       CASE WHEN r.profile LIKE 'reanalyse:%' THEN 'reanalyse' ELSE 'crawl' END
FROM articles a JOIN crawl_runs r ON r.run_id = a.last_seen_run
ON CONFLICT DO NOTHING;
-- ...and each link's first and last sighting.
INSERT INTO link_sightings
SELECT DISTINCT l.run_id, l.source_url, l.target_url,
       CASE WHEN r.profile LIKE 'reanalyse:%' THEN 'reanalyse' ELSE 'crawl' END,
       l.position
FROM (SELECT first_seen_run AS run_id, source_url, target_url, position FROM related_links
      UNION
      SELECT last_seen_run, source_url, target_url, position FROM related_links) l
JOIN crawl_runs r ON r.run_id = l.run_id
ON CONFLICT DO NOTHING;
CREATE TEMP TABLE reanalyses AS
SELECT run_id FROM crawl_runs WHERE profile LIKE 'reanalyse:%';
-- A reanalysis re-read the page its source's latest crawl had read: where it set a
-- link's first or last run, that crawl's run is the one meant now.
UPDATE related_links SET
    first_seen_run = CASE WHEN first_seen_run IN (SELECT run_id FROM reanalyses)
        THEN coalesce((SELECT max(p.run_id) FROM page_reads p
                       WHERE p.url = related_links.source_url AND p.kind = 'crawl'
                         AND p.run_id < related_links.first_seen_run), first_seen_run)
        ELSE first_seen_run END,
    last_seen_run = CASE WHEN last_seen_run IN (SELECT run_id FROM reanalyses)
        THEN coalesce((SELECT max(p.run_id) FROM page_reads p
                       WHERE p.url = related_links.source_url AND p.kind = 'crawl'
                         AND p.run_id < related_links.last_seen_run), last_seen_run)
        ELSE last_seen_run END
WHERE first_seen_run IN (SELECT run_id FROM reanalyses)
   OR last_seen_run IN (SELECT run_id FROM reanalyses);
DROP TABLE reanalyses;

-- The links of each live article's latest reading (crawl or reanalysis), as before
-- but through the sightings: a reanalysis no longer moves related_links.last_seen_run.
CREATE OR REPLACE VIEW current_links AS
SELECT g.*
FROM link_graph g
JOIN articles a ON a.url = g.source_url
JOIN link_sightings s ON s.run_id = a.last_seen_run AND s.source_url = g.source_url
                     AND s.target_url = g.target_url
WHERE a.gone_at IS NULL AND g.found_by IS DISTINCT FROM 'site-wide';

-- For each page, its latest crawl reading at or before run_a and at or before run_b:
-- a link in the second and not the first appeared, one in the first and not the
-- second disappeared. A page no crawl read by run_b has no change; one first read
-- after run_a has all its links appeared (from_run NULL).
CREATE MACRO link_changes(run_a, run_b) AS TABLE
WITH reads AS (
    SELECT url,
           max(run_id) FILTER (WHERE run_id <= run_a) AS from_run,
           max(run_id) FILTER (WHERE run_id <= run_b) AS to_run
    FROM page_reads WHERE kind = 'crawl'
    GROUP BY url
),
compared AS (
    SELECT r.url AS source_url, s.target_url, r.from_run, r.to_run,
           coalesce(bool_or(s.run_id = r.from_run), false) AS before,
           coalesce(bool_or(s.run_id = r.to_run), false) AS after
    FROM reads r
    JOIN link_sightings s ON s.source_url = r.url
                         AND (s.run_id = r.from_run OR s.run_id = r.to_run)
    WHERE r.to_run IS NOT NULL AND r.from_run IS DISTINCT FROM r.to_run
    GROUP BY ALL
)
SELECT CASE WHEN c.after THEN 'appeared' ELSE 'disappeared' END AS change,
       c.source_url, c.target_url, g.target_article, g.anchor_text, g.heading,
       c.from_run, c.to_run
FROM compared c
JOIN link_graph g ON g.source_url = c.source_url AND g.target_url = c.target_url
WHERE c.before <> c.after AND g.found_by IS DISTINCT FROM 'site-wide'
ORDER BY c.source_url, change, c.target_url;

COMMENT ON TABLE page_reads IS 'Every reading of an article''s page, one row per (run, article): by a crawl (the page fetched, or confirmed unchanged by a 304, and analysed) or by relnews reanalyse (a stored page read again). A page a run did not read has no row here, so a reading that showed no related link is told from no reading.';
COMMENT ON COLUMN page_reads.run_id IS 'The crawl or reanalysis that read the page (crawl_runs.run_id).';
COMMENT ON COLUMN page_reads.url IS 'The article read (articles.url).';
COMMENT ON COLUMN page_reads.kind IS 'crawl or reanalyse: what read it. Only crawl readings say what the site showed when; a reanalysis re-reads a page a crawl fetched.';

COMMENT ON TABLE link_sightings IS 'The related links each reading of a page showed, one row per (run, source page, target URL): crawls and reanalyses apart (kind). Filled in before migration 0009 with each link''s first and last run only.';
COMMENT ON COLUMN link_sightings.run_id IS 'The crawl or reanalysis whose reading showed the link (crawl_runs.run_id; page_reads holds the reading).';
COMMENT ON COLUMN link_sightings.source_url IS 'The page showing the link (articles.url).';
COMMENT ON COLUMN link_sightings.target_url IS 'Where the link points, as written (related_links.target_url).';
COMMENT ON COLUMN link_sightings.kind IS 'crawl or reanalyse, as the reading (page_reads.kind).';
COMMENT ON COLUMN link_sightings.position IS 'The link''s place in the block in that reading, 1 for the first.';

COMMENT ON COLUMN related_links.first_seen_run IS 'The first crawl whose page of the source showed the link (crawl_runs.run_id): the crawl''s own reading, or, for a link only a reanalysis found, the crawl that fetched the page it re-read. Never a reanalysis: those are in link_sightings.';
COMMENT ON COLUMN related_links.last_seen_run IS 'The last crawl whose page of the source showed the link, as first_seen_run; moves only when a crawl reads the source again (a page not re-read keeps its links'' last crawl), never with a reanalysis.';
COMMENT ON COLUMN link_graph.first_seen_run IS 'The first crawl whose page of the source showed the link (related_links.first_seen_run).';
COMMENT ON COLUMN link_graph.last_seen_run IS 'The last crawl whose page of the source showed it (related_links.last_seen_run).';

COMMENT ON VIEW current_links IS 'The related links each live article showed at its latest reading (articles.last_seen_run, a crawl or a reanalysis), site furniture (site-wide) aside: what the editors link now, and what the model learns from.';
COMMENT ON COLUMN current_links.source_url IS 'The live page showing the link (articles.url).';
COMMENT ON COLUMN current_links.position IS 'Place in the block, 1 for the first.';
COMMENT ON COLUMN current_links.target_url IS 'Where the link points, as written on the page.';
COMMENT ON COLUMN current_links.target_article IS 'The archived article it leads to; NULL when the target is not archived.';
COMMENT ON COLUMN current_links.anchor_text IS 'The link''s text.';
COMMENT ON COLUMN current_links.displayed_age IS 'The age shown beside the link, as written; NULL when none.';
COMMENT ON COLUMN current_links.heading IS 'The block''s heading; NULL when none.';
COMMENT ON COLUMN current_links.first_seen_run IS 'The first crawl whose page of the source showed the link.';
COMMENT ON COLUMN current_links.last_seen_run IS 'The last crawl whose page of the source showed it (before a later reanalysis, if one read it since).';
COMMENT ON COLUMN current_links.found_by IS 'How the block was found: profile, heading, name or shape; NULL when not recorded.';
COMMENT ON COLUMN current_links.confidence IS 'How far that is trusted, 0 to 1; NULL with found_by.';

COMMENT ON MACRO TABLE link_changes IS 'link_changes(run_a, run_b): the related links that appeared or disappeared between two crawls, comparing each page''s latest crawl reading at or before run_a with its latest at or before run_b (reanalyses and site furniture aside). Columns: change (appeared or disappeared), source_url, target_url, target_article (the archived article it leads to, or NULL), anchor_text, heading, from_run and to_run (the two readings compared; from_run NULL for a page first read after run_a). A page no crawl read again shows no change. Example: SELECT * FROM link_changes(1, 3).';
