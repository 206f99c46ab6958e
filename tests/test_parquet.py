"""`relnews export-parquet`: every table and view of a crawled demo archive, read back
by pandas and by DuckDB as an analyst would."""

from __future__ import annotations

import duckdb
import pandas as pd

from conftest import run_relnews


def test_every_table_and_view_is_read_back_by_pandas_and_duckdb(crawled_demo, tmp_path):
    db, _ = crawled_demo
    out = tmp_path / "parquet"
    result = run_relnews("export-parquet", str(out), "--db", str(db))
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'main' AND table_catalog = current_database()"
            ).fetchall()
        ]
        expected = {
            name: con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names
        }
        articles = con.execute("SELECT url, title FROM latest_articles ORDER BY url").fetchall()
    finally:
        con.close()
    assert {"articles", "related_links", "current_links", "latest_articles"} <= set(expected)
    assert sorted(path.stem for path in out.glob("*.parquet")) == sorted(expected)
    assert f"{len(expected)} tables and views" in result.stdout
    for name, rows in expected.items():
        assert len(pd.read_parquet(out / f"{name}.parquet")) == rows, name
        read = duckdb.sql(f"SELECT count(*) FROM read_parquet('{out / name}.parquet')")
        assert read.fetchall() == [(rows,)], name
    frame = pd.read_parquet(out / "latest_articles.parquet").sort_values("url")
    assert list(zip(frame["url"], frame["title"], strict=True)) == articles
    assert len(articles) >= 300 and any("é" in title for _url, title in articles)
