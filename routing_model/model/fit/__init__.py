"""Fitting with scikit-learn: features, the classifier, hold-out blocks. Never imported when serving."""
