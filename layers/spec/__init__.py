"""Each layer declared once, one module per layer: table, columns (labels, header aliases, choices,
column classes), style, display, print symbol and import rules; :mod:`layers.spec.registry` lists them."""
