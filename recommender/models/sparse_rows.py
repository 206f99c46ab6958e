"""Row-wise selections on sparse matrices, without a dense matrix or a full sort."""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["MAX_BLOCK_CELLS", "block_rows", "prune_rows", "top_k", "top_per_row"]

#: Upper bound on the cells (rows x articles) of one block of scores computed at once:
#: bounds memory whatever the corpus size.
MAX_BLOCK_CELLS = 1 << 24

#: Relative-score bins of the per-row selection (see ``top_per_row``).
_BINS = 64


def block_rows(n_columns: int, at_most: int) -> int:
    """Rows per block of scores over ``n_columns`` articles: at most ``at_most``, and
    never more than :data:`MAX_BLOCK_CELLS` cells."""
    return max(1, min(int(at_most), MAX_BLOCK_CELLS // max(n_columns, 1)))


def top_k(columns: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest of one row's entries, best first, ties by column (exact float64
    order; :func:`top_per_row` is the vectorised one for whole matrices)."""
    if columns.size > k:
        kth = np.partition(values, columns.size - k)[columns.size - k]
        tied_or_better = values >= kth
        columns, values = columns[tied_or_better], values[tied_or_better]
    order = np.lexsort((columns, -values))[:k]
    return columns[order], values[order]


def prune_rows(matrix: sparse.csr_matrix, keep: int | None) -> sparse.csr_matrix:
    """Each row reduced to its ``keep`` largest positive entries (ties by column; every
    entry when None), indices sorted."""
    matrix = sparse.csr_matrix(matrix)
    if keep is None:
        return matrix.copy()
    rows, columns, values, _ = top_per_row(matrix, keep)
    pruned = sparse.csr_matrix((values, (rows, columns)), shape=matrix.shape)
    pruned.sort_indices()
    return pruned


def top_per_row(
    matrix: sparse.csr_matrix, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``n`` largest positive entries of each row, best first (ties by column).

    Rather than sorting every entry, each row's values are binned relative to the
    row's largest and only the bins that hold its best ``n`` are sorted: a few passes
    over the entries, a sort of a few times ``n`` per row.

    Returns
    -------
    (rows, columns, values, rank) of the kept entries, sorted by row then rank (0 is
    the largest).
    """
    n_rows = matrix.shape[0]
    indptr, columns, values = matrix.indptr, matrix.indices, matrix.data
    lengths = np.diff(indptr)
    if matrix.nnz <= 4 * n * n_rows:  # short rows: sorting them all is cheaper than bins
        entries = np.flatnonzero(values > 0)
        return _first_per_row(indptr, columns, values, entries, n)
    filled = lengths > 0
    best = np.zeros(n_rows, dtype=np.float64)
    if filled.any():
        best[filled] = np.maximum.reduceat(values, indptr[:-1][filled])
    scale = np.zeros(n_rows, dtype=values.dtype)
    np.divide(_BINS, best, out=scale, where=best > 0, casting="unsafe")
    # Bin of each entry (0 also holds the non-positive values, dropped once selected).
    # np.repeat by row rather than indexing by row: the same values, fewer passes.
    bins = (values * np.repeat(scale, lengths)).astype(np.int32)
    np.clip(bins, 0, _BINS - 1, out=bins)
    keys = np.repeat(np.arange(0, n_rows * _BINS, _BINS, dtype=np.int32), lengths)
    keys += bins
    counts = np.bincount(keys, minlength=n_rows * _BINS).reshape(n_rows, _BINS)
    from_top = np.cumsum(counts[:, ::-1], axis=1) >= n  # [r, j]: bins >= _BINS-1-j hold n
    lowest = np.where(from_top.any(axis=1), _BINS - 1 - from_top.argmax(axis=1), 0)
    head = np.flatnonzero(bins >= np.repeat(lowest.astype(np.int32), lengths))
    return _first_per_row(indptr, columns, values, head[values[head] > 0], n)


def _first_per_row(
    indptr: np.ndarray, columns: np.ndarray, values: np.ndarray, entries: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first ``n`` of ``entries`` in each row, by value descending then column."""
    rows = np.searchsorted(indptr, entries, side="right") - 1
    # One integer key for (row, value descending): a positive float32's bits sort as
    # the float does. Values equal in float32 tie, and ties go by column.
    bits = values[entries].astype(np.float32).view(np.uint32)
    key = (rows.astype(np.uint64) << np.uint64(32)) | (np.uint32(0xFFFFFFFF) - bits).astype(
        np.uint64
    )
    sort = np.lexsort((columns[entries], key))
    order, rows = entries[sort], rows[sort]
    rank = np.arange(rows.size) - np.searchsorted(rows, rows)  # place in its row
    kept = rank < n
    return rows[kept], columns[order][kept], values[order][kept], rank[kept]
