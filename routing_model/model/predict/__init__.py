"""Prediction from fitted numbers alone (numpy/scipy): what `disposisi serve` runs."""
