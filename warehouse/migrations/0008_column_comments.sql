-- What every table, view and column of the archive means to an analyst, stored in the
-- archive itself (read back with duckdb_tables(), duckdb_views() and duckdb_columns(),
-- and printed by `relnews schema`). Times of the archive's own (fetches, runs, sightings)
-- are UTC, stored without a time zone. A later migration that adds a column or replaces
-- a view (CREATE OR REPLACE VIEW drops its comments) describes it again.

-- crawl_runs -------------------------------------------------------------------------
COMMENT ON TABLE crawl_runs IS 'One row per crawl (relnews crawl, refresh or demo) or reanalysis (relnews reanalyse, profile reanalyse:NAME): which site, with which profile, when, how it ended and what it stored.';
COMMENT ON COLUMN crawl_runs.run_id IS 'The crawl''s number, 1 for the first, in start order; fetches, versions, links and aliases name the run that stored them.';
COMMENT ON COLUMN crawl_runs.site IS 'The site crawled, as host:port of its start URL (e.g. 127.0.0.1:8765); all for a reanalysis of every site.';
COMMENT ON COLUMN crawl_runs.profile IS 'The site profile the pages were read with (demo, generic, a profile file''s name...); reanalyse:NAME for a reanalysis.';
COMMENT ON COLUMN crawl_runs.started_at IS 'When the crawl started (UTC).';
COMMENT ON COLUMN crawl_runs.finished_at IS 'When the crawl ended (UTC); NULL while it runs, or when it was killed before it could say so.';
COMMENT ON COLUMN crawl_runs.status IS 'running (or killed while running), finished, partial (stopped by a limit, or some pages failed), interrupted (by a signal: the next crawl takes it up) or failed.';
COMMENT ON COLUMN crawl_runs.pages_fetched IS 'Rows this run added to fetches: every request, failed attempts and 304 Not Modified answers included.';
COMMENT ON COLUMN crawl_runs.errors IS 'Fetches of this run that got no answer, a 5xx status or an error.';
COMMENT ON COLUMN crawl_runs.articles_new IS 'Articles first seen in this run.';
COMMENT ON COLUMN crawl_runs.versions_new IS 'Article versions (new or changed content) this run stored.';
COMMENT ON COLUMN crawl_runs.links_new IS 'Related links (source page, target URL) first seen in this run.';
COMMENT ON COLUMN crawl_runs.stats IS 'Scrapy''s statistics of the run and relnews''s own (keys relnews/...), as JSON; NULL until the run ends.';

-- captures ---------------------------------------------------------------------------
COMMENT ON TABLE captures IS 'Raw pages exactly as served, compressed, stored once per distinct content, so that pages can be read again (relnews reanalyse, export-warc) without fetching.';
COMMENT ON COLUMN captures.content_hash IS 'SHA-256 (hex) of the bytes as served; fetches.content_hash points here.';
COMMENT ON COLUMN captures.compression IS 'How body is compressed: zlib.';
COMMENT ON COLUMN captures.body IS 'The page''s bytes as served, compressed (see compression), in the page''s own charset.';
COMMENT ON COLUMN captures.bytes IS 'Size of the page as served, in bytes, before compression.';

-- fetches ----------------------------------------------------------------------------
COMMENT ON TABLE fetches IS 'Every HTTP request of every crawl and what came of it, failed attempts included; one URL has one row per time it was asked for.';
COMMENT ON COLUMN fetches.fetch_id IS 'The fetch''s number, increasing in the order fetches were stored.';
COMMENT ON COLUMN fetches.run_id IS 'The crawl that made the request (crawl_runs.run_id).';
COMMENT ON COLUMN fetches.url IS 'The URL asked for.';
COMMENT ON COLUMN fetches.final_url IS 'The URL that answered, after redirects (url itself when there were none); NULL when nothing answered.';
COMMENT ON COLUMN fetches.status IS 'HTTP status of the answer (200, 301, 304 Not Modified, 404...); NULL when no answer came (DNS failure, refused, timeout).';
COMMENT ON COLUMN fetches.fetched_at IS 'When the answer (or the failure) came (UTC).';
COMMENT ON COLUMN fetches.content_type IS 'The Content-Type header as sent; NULL when absent (always on a 304).';
COMMENT ON COLUMN fetches.encoding IS 'The charset the page was decoded with (Python codec name: utf-8, cp1252...); NULL when no page was read.';
COMMENT ON COLUMN fetches.etag IS 'The ETag header as sent (sent back on the next crawl to ask only for changes); NULL when absent.';
COMMENT ON COLUMN fetches.last_modified IS 'The Last-Modified header as sent, text as the server wrote it; NULL when absent.';
COMMENT ON COLUMN fetches.content_hash IS 'The stored page (captures.content_hash); for a 304, the capture the server confirmed unchanged; NULL when no page was stored.';
COMMENT ON COLUMN fetches.bytes IS 'Size in bytes of the body received; NULL when none came (a 304, a failure).';
COMMENT ON COLUMN fetches.error IS 'Why the fetch failed (timeout, connection refused, a redirect the profile does not allow, analysis: ...), one line; NULL when it did not.';
COMMENT ON COLUMN fetches.is_article IS 'True when the page was read as an article (stored in articles); false for listings, sitemaps, redirects, errors and 304s of non-articles.';
COMMENT ON COLUMN fetches.warnings IS 'What could not be read on a page stored all the same (control characters: 3; malformed links: 1 (http://[x])); NULL when nothing.';

-- url_aliases ------------------------------------------------------------------------
COMMENT ON TABLE url_aliases IS 'Other URLs that lead to an archived article: old addresses that redirect, URLs whose page names another canonical URL, spellings of the same page.';
COMMENT ON COLUMN url_aliases.alias_url IS 'The other URL (as linked or fetched).';
COMMENT ON COLUMN url_aliases.url IS 'The article it leads to (articles.url).';
COMMENT ON COLUMN url_aliases.reason IS 'redirect (the alias answered a redirect), canonical (its page named url as canonical) or same content (another spelling of the page: case, index.html, slashes, query).';
COMMENT ON COLUMN url_aliases.last_seen_run IS 'The last crawl that saw the alias lead there (crawl_runs.run_id).';

-- articles ---------------------------------------------------------------------------
COMMENT ON TABLE articles IS 'One row per article, by canonical URL, live or gone; what it says is in article_versions (latest_articles joins the newest).';
COMMENT ON COLUMN articles.url IS 'The article''s canonical URL (its canonical link when on the same host, else the URL fetched).';
COMMENT ON COLUMN articles.site IS 'The site, as host:port of url.';
COMMENT ON COLUMN articles.first_seen_run IS 'The crawl that first read the article (crawl_runs.run_id).';
COMMENT ON COLUMN articles.last_seen_run IS 'The last crawl (or reanalysis) that read the article''s page; its related links of that run are current_links.';
COMMENT ON COLUMN articles.first_seen_at IS 'When the article was first fetched (UTC).';
COMMENT ON COLUMN articles.last_seen_at IS 'When the article''s page was last fetched with an answer, 304 Not Modified included (UTC).';
COMMENT ON COLUMN articles.gone_at IS 'When the article first answered 404 or 410 (UTC); NULL while it is live (a later sighting clears it).';
COMMENT ON COLUMN articles.latest_version_id IS 'Its newest version (article_versions.version_id).';

-- article_versions -------------------------------------------------------------------
COMMENT ON TABLE article_versions IS 'One row per distinct content of an article: a new version only when what the page says changed (a date read from a displayed age does not count: it drifts).';
COMMENT ON COLUMN article_versions.version_id IS 'The version''s number, increasing in the order versions were stored.';
COMMENT ON COLUMN article_versions.url IS 'The article (articles.url).';
COMMENT ON COLUMN article_versions.content_hash IS 'SHA-256 (hex) of what the article says (not of the page''s bytes): equal hashes, equal content.';
COMMENT ON COLUMN article_versions.run_id IS 'The crawl (or reanalysis) that stored this version (crawl_runs.run_id).';
COMMENT ON COLUMN article_versions.fetch_id IS 'The fetch whose page gave this version (fetches.fetch_id).';
COMMENT ON COLUMN article_versions.fetched_at IS 'When that page was fetched (UTC): when this content was first seen.';
COMMENT ON COLUMN article_versions.title IS 'The article''s title as shown on the page.';
COMMENT ON COLUMN article_versions.lead IS 'The lead (chapô) paragraph; NULL or empty when the page has none.';
COMMENT ON COLUMN article_versions.body IS 'The article''s text, paragraphs separated by newlines; without the related block, sources, navigation or comments.';
COMMENT ON COLUMN article_versions.published_at IS 'When the article was published, in UTC when the page gave a time zone, else as the page wrote it; to the precision in published_precision; NULL when the page says nothing.';
COMMENT ON COLUMN article_versions.published_source IS 'Where published_at was read: selector (the profile''s), json-ld, opengraph, meta, time, url, htmldate, or relative-age (a displayed age such as il y a 8 années 4 mois, counted back from fetched_at); NULL with published_at.';
COMMENT ON COLUMN article_versions.published_precision IS 'How precise published_at is: exact, day, month or year (only that much of it is meant: a month-precise date may fall on any day of it); NULL with published_at.';
COMMENT ON COLUMN article_versions.modified_at IS 'When the page says it was last updated, read and converted like published_at; NULL when it does not say.';
COMMENT ON COLUMN article_versions.modified_source IS 'Where modified_at was read (as published_source); NULL with modified_at.';
COMMENT ON COLUMN article_versions.modified_precision IS 'How precise modified_at is (as published_precision); NULL with modified_at.';
COMMENT ON COLUMN article_versions.rubrique IS 'The site''s section the article belongs to (Cardiologie, Sport et santé...); NULL when the page names none.';
COMMENT ON COLUMN article_versions.tags IS 'The article''s tags or keywords, in page order; empty when none.';
COMMENT ON COLUMN article_versions.author IS 'The author as the page names them; NULL when it does not.';
COMMENT ON COLUMN article_versions.language IS 'The page''s language code (fr, en...), from its markup or profile; NULL when unknown.';
COMMENT ON COLUMN article_versions.canonical_url IS 'The canonical link the page declares, as written (on the same host it becomes articles.url); NULL when none.';
COMMENT ON COLUMN article_versions.sources IS 'The studies or references the article cites, one per item, in page order; empty when none.';
COMMENT ON COLUMN article_versions.theme IS 'The theme link''s text (Plus de 20 études sur la Fibromyalgie); NULL when the page has none.';
COMMENT ON COLUMN article_versions.theme_url IS 'Where the theme link points; NULL when the page has none.';
COMMENT ON COLUMN article_versions.date_conflicts IS 'Where the page''s date sources disagree (published: json-ld 2019-03-01 != meta 2019-03-05; the first source''s date is kept); empty when they agree, NULL for versions stored before this was recorded.';

-- related_links ----------------------------------------------------------------------
COMMENT ON TABLE related_links IS 'The editorial related block of each page, one row per (source page, target URL) ever seen; its attributes are those of the last page read that showed it.';
COMMENT ON COLUMN related_links.source_url IS 'The page showing the block (articles.url).';
COMMENT ON COLUMN related_links.target_url IS 'Where the link points, as written on the page (absolute); link_graph resolves it to an article.';
COMMENT ON COLUMN related_links.position IS 'The link''s place in the block, 1 for the first, in the editors'' order.';
COMMENT ON COLUMN related_links.anchor_text IS 'The link''s text (usually the target''s title).';
COMMENT ON COLUMN related_links.displayed_age IS 'The age shown beside the link, as written (Actualité publiée il y a 8 années 4 mois); NULL when none.';
COMMENT ON COLUMN related_links.target_published_at IS 'The target''s publication date that displayed_age implies, counted back from the fetch (UTC, to target_published_precision); NULL without an age.';
COMMENT ON COLUMN related_links.target_published_precision IS 'How precise target_published_at is: day, month or year; NULL without an age.';
COMMENT ON COLUMN related_links.heading IS 'The block''s heading (Autres actualités sur le même thème, See also); NULL when it has none.';
COMMENT ON COLUMN related_links.source_version_id IS 'The version of the source page last read with this link (article_versions.version_id).';
COMMENT ON COLUMN related_links.first_seen_run IS 'The crawl (or reanalysis) that first stored the link (crawl_runs.run_id).';
COMMENT ON COLUMN related_links.last_seen_run IS 'The last crawl (or reanalysis) whose reading of the source page showed the link; moves only when the source is read again.';
COMMENT ON COLUMN related_links.found_by IS 'How the block was found: profile (its selectors), heading, name (class or id), shape (generic mode), or site-wide (the same links on most pages: site furniture, not the page''s block); NULL for links stored before this was recorded.';
COMMENT ON COLUMN related_links.confidence IS 'How far that way of finding the block is trusted, 0 to 1: 1.0 profile, 0.9 heading, 0.8 name, 0.6 shape, 0.0 site-wide; NULL with found_by.';

-- models, recommendations, evaluations -----------------------------------------------
COMMENT ON TABLE models IS 'One row per fitted recommender (relnews fit, refresh, demo); the newest by created_at serves the lists.';
COMMENT ON COLUMN models.model_id IS 'method-digest: the same settings on the same articles give the same id.';
COMMENT ON COLUMN models.created_at IS 'When the model was fitted (UTC).';
COMMENT ON COLUMN models.method IS 'The recommender: learned (the ranker learned from the editors'' links), tfidf, bm25...';
COMMENT ON COLUMN models.params IS 'Its settings and what fitting chose (best_params, the date rule...), as JSON.';
COMMENT ON COLUMN models.n_articles IS 'How many live articles it was fitted on.';
COMMENT ON COLUMN models.path IS 'Where the fitted model was saved (a .joblib file beside the archive, in NAME.models/); NULL when not saved.';

COMMENT ON TABLE recommendations IS 'Every article''s suggested related list, one row per (model, source article, rank), as stored by fit (before the editors'' pins and blocks are applied).';
COMMENT ON COLUMN recommendations.model_id IS 'The model that made the list (models.model_id).';
COMMENT ON COLUMN recommendations.source_url IS 'The article the list is for (articles.url).';
COMMENT ON COLUMN recommendations.rank IS 'Place in the list, 1 for the best.';
COMMENT ON COLUMN recommendations.target_url IS 'The suggested article (articles.url).';
COMMENT ON COLUMN recommendations.score IS 'The model''s score: higher is more related; comparable within one model only (cosine for tfidf, BM25 score, ranker output for learned).';
COMMENT ON COLUMN recommendations.shared_terms IS 'A few terms (lowercased, accents folded) the two articles share, explaining the suggestion; empty when the method has none.';

COMMENT ON TABLE evaluations IS 'Scores of the model and the baselines against the editors'' own links on held-out articles: one row per (evaluation, mode, method, metric).';
COMMENT ON COLUMN evaluations.evaluation_id IS 'The evaluation''s number; its modes and methods share it (the newest is the largest).';
COMMENT ON COLUMN evaluations.model_id IS 'The fitted model evaluated beside the baselines (models.model_id); NULL when none was named.';
COMMENT ON COLUMN evaluations.created_at IS 'When the evaluation ran (UTC).';
COMMENT ON COLUMN evaluations.split IS 'How the test articles were held out, in words (newest 20% by publication date...).';
COMMENT ON COLUMN evaluations.method IS 'What was scored: learned, tfidf, bm25, random, same rubrique, newest...';
COMMENT ON COLUMN evaluations.metric IS 'P@k, R@k, nDCG@k, MRR, hit@k or coverage@k, k the list length.';
COMMENT ON COLUMN evaluations.value IS 'The metric''s value, 0 to 1, averaged over the test articles (coverage: share of articles suggested at least once).';
COMMENT ON COLUMN evaluations.n_queries IS 'How many held-out articles with editorial links the value averages over.';
COMMENT ON COLUMN evaluations.mode IS 'existing (the held-out page is archived, its own links hidden) or cold_start (only its text is known); NULL when not recorded.';
COMMENT ON COLUMN evaluations.ci_low IS 'Lower end of the 95% bootstrap confidence interval over test articles; NULL when none (coverage, older rows).';
COMMENT ON COLUMN evaluations.ci_high IS 'Upper end of that interval; NULL with ci_low.';

-- editor_rules -----------------------------------------------------------------------
COMMENT ON TABLE editor_rules IS 'The editors'' pins and blocks over the suggested lists (relnews pin, block), one rule per (source, target): the latest word wins.';
COMMENT ON COLUMN editor_rules.source_url IS 'The article whose list the rule applies to (articles.url), or * for every list (blocks only).';
COMMENT ON COLUMN editor_rules.target_url IS 'The article pinned or blocked (articles.url).';
COMMENT ON COLUMN editor_rules.rule IS 'pin (always shown first, in the order pinned) or block (never shown; wins over a pin).';
COMMENT ON COLUMN editor_rules.created_at IS 'When the rule was made (UTC); pins show in this order.';
COMMENT ON COLUMN editor_rules.note IS 'Why, in the editor''s words; NULL when none was given.';

-- schema_migrations ------------------------------------------------------------------
COMMENT ON TABLE schema_migrations IS 'The schema migrations applied to this archive (warehouse/migrations/*.sql), each once.';
COMMENT ON COLUMN schema_migrations.name IS 'The migration''s file name without .sql (0001_initial...).';
COMMENT ON COLUMN schema_migrations.applied_at IS 'When it was applied to this archive (the local time of the machine that applied it).';

-- views ------------------------------------------------------------------------------
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
COMMENT ON COLUMN latest_articles.published_source IS 'Where published_at was read (selector, json-ld, opengraph, meta, time, url, htmldate, relative-age); NULL with it.';
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

COMMENT ON VIEW link_graph IS 'Every related link ever seen, its target resolved to an archived article through redirects and canonical links.';
COMMENT ON COLUMN link_graph.source_url IS 'The page showing the link (articles.url).';
COMMENT ON COLUMN link_graph.position IS 'Place in the block, 1 for the first.';
COMMENT ON COLUMN link_graph.target_url IS 'Where the link points, as written on the page.';
COMMENT ON COLUMN link_graph.target_article IS 'The archived article the link leads to (articles.url, itself or through url_aliases); NULL when the target is not archived (outside the site, never crawled, or it never answered as an article).';
COMMENT ON COLUMN link_graph.anchor_text IS 'The link''s text.';
COMMENT ON COLUMN link_graph.displayed_age IS 'The age shown beside the link, as written; NULL when none.';
COMMENT ON COLUMN link_graph.heading IS 'The block''s heading; NULL when none.';
COMMENT ON COLUMN link_graph.first_seen_run IS 'The crawl that first stored the link (crawl_runs.run_id).';
COMMENT ON COLUMN link_graph.last_seen_run IS 'The last crawl whose reading of the source page showed it.';
COMMENT ON COLUMN link_graph.found_by IS 'How the block was found: profile, heading, name, shape or site-wide (furniture); NULL when not recorded.';
COMMENT ON COLUMN link_graph.confidence IS 'How far that is trusted, 0 to 1; NULL with found_by.';

COMMENT ON VIEW current_links IS 'The related links each live article showed the last time its page was read, site furniture (site-wide) aside: what the editors link now, and what the model learns from.';
COMMENT ON COLUMN current_links.source_url IS 'The live page showing the link (articles.url).';
COMMENT ON COLUMN current_links.position IS 'Place in the block, 1 for the first.';
COMMENT ON COLUMN current_links.target_url IS 'Where the link points, as written on the page.';
COMMENT ON COLUMN current_links.target_article IS 'The archived article it leads to; NULL when the target is not archived.';
COMMENT ON COLUMN current_links.anchor_text IS 'The link''s text.';
COMMENT ON COLUMN current_links.displayed_age IS 'The age shown beside the link, as written; NULL when none.';
COMMENT ON COLUMN current_links.heading IS 'The block''s heading; NULL when none.';
COMMENT ON COLUMN current_links.first_seen_run IS 'The crawl that first stored the link.';
COMMENT ON COLUMN current_links.last_seen_run IS 'The source''s last reading (equal to articles.last_seen_run here).';
COMMENT ON COLUMN current_links.found_by IS 'How the block was found: profile, heading, name or shape; NULL when not recorded.';
COMMENT ON COLUMN current_links.confidence IS 'How far that is trusted, 0 to 1; NULL with found_by.';

COMMENT ON VIEW editors_vs_model IS 'The newest model''s stored lists beside the editors'' current links. In-sample: the learned model was fitted on these same links, so agreement here overstates how it does on new articles (relnews evaluate holds articles out).';
COMMENT ON COLUMN editors_vs_model.source_url IS 'The article the list is for.';
COMMENT ON COLUMN editors_vs_model.rank IS 'Place in the model''s list, 1 for the best.';
COMMENT ON COLUMN editors_vs_model.target_url IS 'The suggested article.';
COMMENT ON COLUMN editors_vs_model.score IS 'The model''s score (higher is more related; within one model only).';
COMMENT ON COLUMN editors_vs_model.editors_picked_it IS 'True when the source''s current related block links to the suggested article.';
