"""Printed field maps: data, layout, rendering (vector PDF)."""
