"""Row-wise selections on sparse matrices, checked against a plain sort of each row."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from recommender.models.sparse_rows import prune_rows, top_per_row


def expected_top(matrix: sparse.csr_matrix, n: int) -> list[list[tuple[int, float]]]:
    """Each row's n largest positive entries as (column, value), by value then column."""
    dense = matrix.toarray()
    rows = []
    for row in dense:
        entries = [(int(c), float(v)) for c, v in enumerate(row) if v > 0]
        entries.sort(key=lambda e: (-np.float32(e[1]), e[0]))
        rows.append(entries[:n])
    return rows


def as_lists(result, n_rows: int) -> list[list[tuple[int, float]]]:
    rows, columns, values, rank = result
    out: list[list[tuple[int, float]]] = [[] for _ in range(n_rows)]
    for r, c, v, k in zip(rows, columns, values, rank, strict=True):
        assert k == len(out[r])  # ranks count from 0 within each row, in order
        out[r].append((int(c), float(v)))
    return out


@pytest.mark.parametrize("n", [1, 3, 10, 40])
@pytest.mark.parametrize("density", [0.02, 0.3, 0.9])
def test_top_per_row_matches_sorting_each_row(n, density):
    rng = np.random.default_rng(n)
    matrix = sparse.random(60, 500, density=density, format="csr", random_state=rng)
    matrix.data -= 0.2  # some negative values: never selected
    matrix.data[::7] = 0.5  # ties, broken by column
    assert as_lists(top_per_row(matrix, n), 60) == expected_top(matrix, n)


def test_top_per_row_with_unsorted_columns_and_empty_rows():
    rng = np.random.default_rng(1)
    product = sparse.random(30, 80, density=0.2, format="csr", random_state=rng) @ sparse.random(
        80, 300, density=0.2, format="csr", random_state=rng
    )
    product = sparse.csr_matrix(product)
    product.data[product.indptr[3] : product.indptr[5]] = 0  # rows 3 and 4: nothing positive
    got = as_lists(top_per_row(product, 7), 30)
    assert got == expected_top(product, 7)
    assert got[3] == got[4] == []


def test_prune_rows_keeps_the_largest_entries_of_each_row():
    matrix = sparse.csr_matrix(
        np.array([[0.1, 0.0, 0.7, 0.3, 0.5], [0.0, 0.0, 0.0, 0.0, 0.0], [0.2, 0.2, 0.0, 0.9, 0.0]])
    )
    pruned = prune_rows(matrix, 2)
    assert pruned.toarray().tolist() == [
        [0.0, 0.0, 0.7, 0.0, 0.5],
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [0.2, 0.0, 0.0, 0.9, 0.0],  # the tie at 0.2 goes to the first column
    ]
    assert pruned.has_sorted_indices
    assert (prune_rows(matrix, None) != matrix).nnz == 0
