-- Generic analysis reads dates from several sources (JSON-LD, meta tags, <time>, the
-- URL) and flags where they disagree.
ALTER TABLE article_versions ADD COLUMN date_conflicts VARCHAR[];

CREATE OR REPLACE VIEW latest_articles AS
SELECT a.url, a.site, a.first_seen_at, a.last_seen_at, a.gone_at,
       v.version_id, v.title, v.lead, v.body, v.published_at, v.published_source,
       v.published_precision, v.modified_at, v.modified_source, v.modified_precision,
       v.canonical_url, v.rubrique, v.tags, v.author, v.language,
       v.sources, v.theme, v.theme_url, v.date_conflicts
FROM articles a
JOIN article_versions v ON v.version_id = a.latest_version_id;
