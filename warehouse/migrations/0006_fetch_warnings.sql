-- What went wrong reading a page that was stored all the same: control characters taken
-- out, malformed links skipped ("control characters: 3; malformed links: 1 (http://[x])").
ALTER TABLE fetches ADD COLUMN warnings VARCHAR;
