"""HTML pages (Folium maps, OGC HTML) and their assets; no web framework here."""
