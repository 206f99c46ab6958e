-- How each related link's block was found ("profile", "heading", "name", "shape"; or
-- "site-wide": the same links on most pages of the site, furniture rather than a page's
-- related block) and how far that way is trusted (1.0 a profile's selectors, 0.0
-- furniture), so that an analyst can filter on them. Links stored before this
-- migration have neither.
ALTER TABLE related_links ADD COLUMN found_by VARCHAR;
ALTER TABLE related_links ADD COLUMN confidence DOUBLE;

CREATE OR REPLACE VIEW link_graph AS
SELECT l.source_url, l.position, l.target_url,
       coalesce(t.url, ta.url) AS target_article,
       l.anchor_text, l.displayed_age, l.heading, l.first_seen_run, l.last_seen_run,
       l.found_by, l.confidence
FROM related_links l
LEFT JOIN url_aliases al ON al.alias_url = l.target_url
LEFT JOIN articles t ON t.url = l.target_url
LEFT JOIN articles ta ON ta.url = al.url;

-- The links shown on each article's page the last time it was crawled, site furniture
-- aside.
CREATE OR REPLACE VIEW current_links AS
SELECT g.*
FROM link_graph g
JOIN articles a ON a.url = g.source_url
WHERE g.last_seen_run = a.last_seen_run AND a.gone_at IS NULL
  AND g.found_by IS DISTINCT FROM 'site-wide';
