-- The page's own calendar and its picture. A publication date keeps the UTC offset the
-- page declared beside its instant in UTC, so that "articles per day" counts a post of
-- 2024-03-05T07:30:00+08:00 on the 5th (published_local_day), not on the 4th; and each
-- version stores the page's image. Versions stored before this migration know no
-- offset: their local day is the day of published_at, and their image is NULL (a
-- reanalysis reads both from the stored pages).
ALTER TABLE article_versions ADD COLUMN published_utc_offset INTEGER;
ALTER TABLE article_versions ADD COLUMN published_local_day DATE;
ALTER TABLE article_versions ADD COLUMN image VARCHAR;
UPDATE article_versions SET published_local_day = CAST(published_at AS DATE)
WHERE published_at IS NOT NULL;

CREATE OR REPLACE VIEW latest_articles AS
SELECT a.url, a.site, a.first_seen_at, a.last_seen_at, a.gone_at,
       v.version_id, v.title, v.lead, v.body, v.published_at, v.published_source,
       v.published_precision, v.modified_at, v.modified_source, v.modified_precision,
       v.canonical_url, v.rubrique, v.tags, v.author, v.language,
       v.sources, v.theme, v.theme_url, v.date_conflicts,
       v.published_utc_offset, v.published_local_day, v.image
FROM articles a
JOIN article_versions v ON v.version_id = a.latest_version_id;

COMMENT ON COLUMN article_versions.published_utc_offset IS 'The UTC offset the page declared with published_at, in minutes east of UTC (480 for +08:00, -300 for -05:00); NULL when the page gave no time zone (published_at is then as written) or for versions stored before this was recorded.';
COMMENT ON COLUMN article_versions.published_local_day IS 'The publication day on the page''s own calendar (published_at moved by published_utc_offset): 2024-03-05 for 2024-03-05T07:30:00+08:00, whose published_at is 2024-03-04 23:30 UTC. Count articles per day on this. Only its month or year is meant when published_precision says so; NULL with published_at.';
COMMENT ON COLUMN article_versions.published_source IS 'Where published_at was read: selector (the profile''s), json-ld, opengraph, meta, time, url, text (the date the page shows beside its title), htmldate, or relative-age (a displayed age such as il y a 8 années 4 mois, counted back from fetched_at); NULL with published_at.';
COMMENT ON COLUMN article_versions.image IS 'The page''s image as an absolute http(s) URL: its og:image, else twitter:image, else its JSON-LD image, else the first picture of its text; NULL when none (or stored before this was recorded).';

-- latest_articles, replaced above, is described again.
COMMENT ON VIEW latest_articles IS 'Every article (live or gone) with its newest version: the usual starting point for questions about articles.';
COMMENT ON COLUMN latest_articles.url IS 'The article''s canonical URL (articles.url).';
COMMENT ON COLUMN latest_articles.site IS 'The site, as host:port.';
COMMENT ON COLUMN latest_articles.first_seen_at IS 'When the article was first fetched (UTC).';
COMMENT ON COLUMN latest_articles.last_seen_at IS 'When its page was last fetched with an answer (UTC).';
COMMENT ON COLUMN latest_articles.gone_at IS 'When it first answered 404 or 410 (UTC); NULL while live: filter on gone_at IS NULL for live articles.';
COMMENT ON COLUMN latest_articles.version_id IS 'The newest version (article_versions.version_id).';
COMMENT ON COLUMN latest_articles.title IS 'The title as shown on the page.';
COMMENT ON COLUMN latest_articles.lead IS 'The lead paragraph; NULL or empty when none.';
COMMENT ON COLUMN latest_articles.body IS 'The text, paragraphs separated by newlines, without related block, sources or navigation.';
COMMENT ON COLUMN latest_articles.published_at IS 'Publication date (UTC when the page gave a time zone, else as written), to published_precision; NULL when unknown.';
COMMENT ON COLUMN latest_articles.published_source IS 'Where published_at was read (selector, json-ld, opengraph, meta, time, url, text, htmldate, relative-age); NULL with it.';
COMMENT ON COLUMN latest_articles.published_precision IS 'exact, day, month or year; NULL with published_at.';
COMMENT ON COLUMN latest_articles.modified_at IS 'When the page says it was last updated (as published_at); NULL when it does not say.';
COMMENT ON COLUMN latest_articles.modified_source IS 'Where modified_at was read; NULL with it.';
COMMENT ON COLUMN latest_articles.modified_precision IS 'How precise modified_at is; NULL with it.';
COMMENT ON COLUMN latest_articles.canonical_url IS 'The canonical link the page declares, as written; NULL when none.';
COMMENT ON COLUMN latest_articles.rubrique IS 'The site''s section; NULL when the page names none.';
COMMENT ON COLUMN latest_articles.tags IS 'Tags or keywords, in page order; empty when none.';
COMMENT ON COLUMN latest_articles.author IS 'The author; NULL when not named.';
COMMENT ON COLUMN latest_articles.language IS 'Language code (fr, en...); NULL when unknown.';
COMMENT ON COLUMN latest_articles.sources IS 'The studies or references cited, in page order; empty when none.';
COMMENT ON COLUMN latest_articles.theme IS 'The theme link''s text; NULL when none.';
COMMENT ON COLUMN latest_articles.theme_url IS 'Where the theme link points; NULL when none.';
COMMENT ON COLUMN latest_articles.date_conflicts IS 'Disagreements between the page''s date sources; empty when none, NULL when not recorded.';
COMMENT ON COLUMN latest_articles.published_utc_offset IS 'The UTC offset the page declared with published_at, minutes east of UTC; NULL when it gave none.';
COMMENT ON COLUMN latest_articles.published_local_day IS 'The publication day on the page''s own calendar (2024-03-05 for 2024-03-05T07:30:00+08:00): count articles per day on this; NULL with published_at.';
COMMENT ON COLUMN latest_articles.image IS 'The page''s image (og:image, twitter:image, JSON-LD image, else the text''s first picture), an absolute http(s) URL; NULL when none.';
