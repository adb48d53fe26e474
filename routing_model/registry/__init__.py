"""A region's agencies (the registry), the shared government functions, starter registries."""
