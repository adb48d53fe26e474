"""Model directories: the sealed card, the skops file, the served form, the models directory."""
