"""Parquet written a slice at a time reads back as the table written whole."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.store import to_parquet


def test_sliced_parquet_reads_back_the_same_table(tmp_path):
    """Every column (categories, flags, text, NaN) and row comes back, dtypes included."""
    n = 1000
    rng = np.random.default_rng(7)
    df = pd.DataFrame({
        "call": np.arange(n),
        "wait_s": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(20, n)),
        "outcome": pd.Categorical.from_codes(rng.integers(0, 3, n),
                                             categories=["answered", "abandoned", "closed"]),
        "counted": rng.random(n) < 0.9,
        "reason": rng.choice(["system", "agent"], n),
    })
    whole, sliced = tmp_path / "whole.parquet", tmp_path / "sliced.parquet"
    to_parquet(df, whole, rows=n)
    to_parquet(df, sliced, rows=64)  # 16 slices, the last one short
    pd.testing.assert_frame_equal(pd.read_parquet(sliced), pd.read_parquet(whole),
                                  check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(sliced), df, check_exact=True)
