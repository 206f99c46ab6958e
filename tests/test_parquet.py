"""`relnews export-parquet`: every table and view of a crawled demo archive, read back
by pandas and by DuckDB as an analyst would."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

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


def test_columns_keep_their_descriptions_and_json_stays_json(crawled_demo, tmp_path):
    db, _ = crawled_demo
    out = tmp_path / "parquet"
    run_relnews("export-parquet", str(out), "--db", str(db))
    con = duckdb.connect(str(db), read_only=True)
    try:
        comments = con.execute(
            "SELECT table_name, column_name, comment, data_type FROM duckdb_columns()"
            " WHERE schema_name = 'main' AND NOT internal AND database_name = current_database()"
        ).fetchall()
        stats = con.execute("SELECT run_id, stats FROM crawl_runs ORDER BY run_id").fetchall()
    finally:
        con.close()
    described = [(table, column, comment) for table, column, comment, _ in comments if comment]
    assert len(described) > 100
    for table, column, comment in described:
        field = pq.read_schema(out / f"{table}.parquet").field(column)
        assert field.metadata == {b"description": comment.encode()}, (table, column)
    json_columns = {
        (table, column) for table, column, _, data_type in comments if data_type == "JSON"
    }
    assert ("crawl_runs", "stats") in json_columns
    for table, column in json_columns:
        field = pq.read_schema(out / f"{table}.parquet").field(column)
        assert not pa.types.is_binary(field.type), (table, column, field.type)
        storage = getattr(field.type, "storage_type", field.type)  # arrow.json: on strings
        assert pa.types.is_string(storage) or pa.types.is_large_string(storage)
    runs = pq.read_table(out / "crawl_runs.parquet").sort_by("run_id").to_pylist()
    assert [(run["run_id"], json.loads(run["stats"])) for run in runs] == [
        (run_id, json.loads(text)) for run_id, text in stats
    ]
    assert json.loads(runs[0]["stats"])  # the crawl's statistics, an object
    table_description = pq.read_schema(out / "crawl_runs.parquet").metadata[b"description"]
    assert table_description.startswith(b"One row per crawl")
    read_back = duckdb.sql(f"DESCRIBE SELECT stats FROM read_parquet('{out}/crawl_runs.parquet')")
    assert read_back.fetchall()[0][1] == "JSON"  # DuckDB reads it back as JSON, too
