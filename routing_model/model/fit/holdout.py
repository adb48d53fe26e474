"""Which labeled rows are held out to calibrate a model: the latest ones, in rolling blocks.

The next month's complaints look more like last month's than like a random fold of the past, so
the temperature and the review thresholds are fitted on the newest rows, each block predicted by
a model of the rows before it. How the shares and block counts were chosen: ``docs/quality.md``.
"""

from __future__ import annotations

import numpy as np

MIN_HOLDOUT = 20  # fewest held-out rows a temperature or threshold is fitted on
MIN_BLOCK_ROWS = 8  # fewest rows of one rolling held-out block
# Small data (most regions): three rolling blocks, so the calibration rests on three periods,
# not on one month's few dozen rows. From LARGE_DATA_ROWS on, one block holds enough rows.
HOLDOUT_SHARE, HOLDOUT_BLOCKS = 0.45, 3
LARGE_DATA_ROWS, LARGE_HOLDOUT_SHARE = 2000, 0.2


Split = tuple[np.ndarray, np.ndarray]  # (rows a model is fitted on, the rows it predicts)


def latest_blocks(n: int, dates, share: float, blocks: int, seed: int) -> tuple[list[Split], str]:
    """Held-out blocks for calibration: [(rows before the block, the block's rows)], and how it was
    cut. Dated rows: the newest ``share`` of the rows cut into ``blocks`` consecutive periods, each
    predicted by a model of the rows before it (rolling origin, so every held-out row is
    out-of-time, as next month's complaints will be). Undated rows: one seeded random block."""
    k = max(MIN_HOLDOUT, int(round(n * share)))
    if dates is not None and len(dates) == n and all(dates):
        order = np.argsort(np.asarray(dates, dtype=str), kind="stable")
        blocks = max(1, min(int(blocks), k // MIN_BLOCK_ROWS))
        cuts = np.linspace(n - k, n, blocks + 1).round().astype(int)
        out = [(order[:a], order[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
        held = order[n - k :]
        period = f"{min(dates[i] for i in held)} .. {max(dates[i] for i in held)}"
        how = f"latest {k} rows by date ({period}) in {blocks} rolling block(s)"
        return out, how
    order = np.random.default_rng(seed).permutation(n)
    return [(np.sort(order[k:]), np.sort(order[:k]))], f"{k} random rows (undated data)"
