"""Files in and out: readers, import, export, rosters."""
