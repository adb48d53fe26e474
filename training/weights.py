"""Sample weights for training: recent dispatches count more than old ones.

Mandates move (street lighting went from PUTR to Dishub in 2023) and admins' habits change;
an exponential decay with a half-life in days lets the newest decisions win without
throwing old ones away.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def recency_weights(dates, half_life_days: float | None) -> np.ndarray | None:
    """Weight 1 for the newest row, 0.5 one half-life earlier; undated rows get the median weight."""
    if not half_life_days:
        return None
    parsed = pd.to_datetime(pd.Series(list(dates), dtype="object"), errors="coerce")
    if parsed.isna().all():
        return None
    age = (parsed.max() - parsed).dt.days.astype(float)
    weights = np.power(0.5, age / float(half_life_days))
    return weights.fillna(weights.median()).to_numpy()
