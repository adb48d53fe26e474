"""The learning loop: retrain on new labels and admin feedback, promote only models that are not worse."""
