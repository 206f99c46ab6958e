-- Views for analysts: the latest state of every article, the editorial link graph,
-- and the model's lists beside the editors'.

CREATE VIEW latest_articles AS
SELECT a.url, a.site, a.first_seen_at, a.last_seen_at, a.gone_at,
       v.version_id, v.title, v.lead, v.body, v.published_at, v.published_source,
       v.published_precision, v.modified_at, v.modified_source, v.modified_precision,
       v.canonical_url, v.rubrique, v.tags, v.author, v.language,
       v.sources, v.theme, v.theme_url
FROM articles a
JOIN article_versions v ON v.version_id = a.latest_version_id;

-- Related links whose target is resolved to an archived article (through redirects
-- and canonical links); target_article is NULL when the target is not archived.
CREATE VIEW link_graph AS
SELECT l.source_url, l.position, l.target_url,
       coalesce(t.url, ta.url) AS target_article,
       l.anchor_text, l.displayed_age, l.heading, l.first_seen_run, l.last_seen_run
FROM related_links l
LEFT JOIN url_aliases al ON al.alias_url = l.target_url
LEFT JOIN articles t ON t.url = l.target_url
LEFT JOIN articles ta ON ta.url = al.url;

-- The links shown on each article's page the last time it was crawled.
CREATE VIEW current_links AS
SELECT g.*
FROM link_graph g
JOIN articles a ON a.url = g.source_url
WHERE g.last_seen_run = a.last_seen_run AND a.gone_at IS NULL;

-- The newest model's suggestions beside what the editors picked.
CREATE VIEW editors_vs_model AS
WITH newest AS (SELECT model_id FROM models ORDER BY created_at DESC LIMIT 1)
SELECT r.source_url, r.rank, r.target_url, r.score,
       EXISTS (SELECT 1 FROM current_links c
               WHERE c.source_url = r.source_url AND c.target_article = r.target_url)
           AS editors_picked_it
FROM recommendations r JOIN newest USING (model_id);
