"""The routing model: ``fit`` (scikit-learn, training only) and ``predict`` (numpy only, served)."""
