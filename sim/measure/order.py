"""Stable orders of large integer keys: numpy's radix sort where the keys allow it.

``np.argsort(key, kind="stable")`` is a merge sort (timsort) for 32- and 64-bit integers
but a radix sort for 16-bit ones, about nine times faster on the millions of status rows
of a long run. A stable order of the same keys is unique, so the order is the same.
"""

from __future__ import annotations

import numpy as np

_LO, _HI = np.iinfo(np.int16).min, np.iinfo(np.int16).max


def stable_order(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` (integer keys), sorted as 16-bit when they fit."""
    if key.size > 1024 and key.dtype.kind in "iu" and key.dtype.itemsize > 2 \
            and _LO <= key.min() and key.max() <= _HI:
        key = key.astype(np.int16)
    return np.argsort(key, kind="stable")


def sorted_groups(sorted_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(sorted_key, return_index=True)`` of keys already in order, without a sort."""
    if not sorted_key.size:
        return np.unique(sorted_key, return_index=True)
    first = np.empty(sorted_key.size, dtype=bool)
    first[0] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=first[1:])
    start = np.flatnonzero(first)
    return sorted_key[start], start
