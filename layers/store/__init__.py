"""SQL about layers: features, vector tiles, OGC items, counts (typed inputs, no HTTP)."""
