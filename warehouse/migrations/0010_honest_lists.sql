-- Lists that are full and honest: why the model's method was chosen (models.choice);
-- which stored suggestions fill a list the model left short (recommendations.backfill)
-- and whether a list is in-sample (recommendations.in_sample: the model was fitted on
-- its source's own editorial links); the out-of-sample lists that relnews evaluate
-- judged, stored apart (evaluation_lists). Rows stored before this migration say
-- backfill false and in_sample NULL (not recorded).
ALTER TABLE models ADD COLUMN choice JSON;
ALTER TABLE recommendations ADD COLUMN backfill BOOLEAN DEFAULT false;
ALTER TABLE recommendations ADD COLUMN in_sample BOOLEAN;

CREATE TABLE evaluation_lists (
    evaluation_id     INTEGER NOT NULL,
    mode              VARCHAR NOT NULL,
    method            VARCHAR NOT NULL,
    source_url        VARCHAR NOT NULL,
    rank              INTEGER NOT NULL,
    target_url        VARCHAR NOT NULL,
    score             DOUBLE,
    editors_picked_it BOOLEAN NOT NULL,
    PRIMARY KEY (evaluation_id, mode, method, source_url, rank)
);

CREATE OR REPLACE VIEW editors_vs_model AS
WITH newest AS (SELECT model_id FROM models ORDER BY created_at DESC LIMIT 1)
SELECT r.source_url, r.rank, r.target_url, r.score,
       EXISTS (SELECT 1 FROM current_links c
               WHERE c.source_url = r.source_url AND c.target_article = r.target_url)
           AS editors_picked_it,
       r.in_sample, r.backfill
FROM recommendations r JOIN newest USING (model_id);

COMMENT ON COLUMN models.choice IS 'Why this method serves the lists, as JSON: method, reason, forced (by relnews fit --method), metric (nDCG@10, existing mode), scores and intervals of every candidate (learned, tfidf, bm25) on the validation pages, split, n_validation, n_train_links; NULL for models fitted before it was recorded.';
COMMENT ON COLUMN recommendations.backfill IS 'True for a suggestion that fills a list the model left shorter than k (few older candidates, few similar pages): the most similar pages whatever their date, then the same rubrique''s newest.';
COMMENT ON COLUMN recommendations.in_sample IS 'True when the model was fitted on this source''s own editorial links (the learned ranker, for a page with a related block): agreement with the editors there says little about new pages; false for a list made without them; NULL when not recorded.';

COMMENT ON TABLE evaluation_lists IS 'The lists relnews evaluate judged, out of sample: for each held-out page, each method''s top suggestions from a model fitted without that page''s links, one row per (evaluation, mode, method, page, rank). Apart from recommendations, which holds the lists served.';
COMMENT ON COLUMN evaluation_lists.evaluation_id IS 'The evaluation (evaluations.evaluation_id).';
COMMENT ON COLUMN evaluation_lists.mode IS 'existing (the held-out page is archived, its own links hidden) or cold_start (only its text is known).';
COMMENT ON COLUMN evaluation_lists.method IS 'What made the list: learned, tfidf, bm25, random, same rubrique, newest...';
COMMENT ON COLUMN evaluation_lists.source_url IS 'The held-out page (articles.url).';
COMMENT ON COLUMN evaluation_lists.rank IS 'Place in the list, 1 for the best (as deep as the deepest metric, 10).';
COMMENT ON COLUMN evaluation_lists.target_url IS 'The suggested article (articles.url).';
COMMENT ON COLUMN evaluation_lists.score IS 'The method''s score (higher is more related; within one method only); NULL when none.';
COMMENT ON COLUMN evaluation_lists.editors_picked_it IS 'True when the page''s editors link to the suggested article: what the list was judged against.';

COMMENT ON VIEW editors_vs_model IS 'The newest model''s stored lists beside the editors'' current links. Where in_sample is true the model was fitted on these same links, so agreement there overstates how it does on new articles: evaluation_lists holds the out-of-sample lists of relnews evaluate.';
COMMENT ON COLUMN editors_vs_model.source_url IS 'The article the list is for.';
COMMENT ON COLUMN editors_vs_model.rank IS 'Place in the model''s list, 1 for the best.';
COMMENT ON COLUMN editors_vs_model.target_url IS 'The suggested article.';
COMMENT ON COLUMN editors_vs_model.score IS 'The model''s score (higher is more related; within one model only).';
COMMENT ON COLUMN editors_vs_model.editors_picked_it IS 'True when the source''s current related block links to the suggested article.';
COMMENT ON COLUMN editors_vs_model.in_sample IS 'True when the model was fitted on this source''s own editorial links (in-sample: agreement here is no test); false when not; NULL when not recorded.';
COMMENT ON COLUMN editors_vs_model.backfill IS 'True for a suggestion that fills a list the model left short (recommendations.backfill).';
