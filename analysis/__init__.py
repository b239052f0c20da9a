"""ccsim's analysis layer: many runs, statistics, storage, and the command line."""
