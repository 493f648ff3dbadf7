"""Each layer declared once: table, fields, labels, styles, import rules."""
