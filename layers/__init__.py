"""Thematic layers: one spec per layer, and the renderers for web maps and prints."""
