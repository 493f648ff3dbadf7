"""A deterministic synthetic city near Yantai, for demos, tests and benchmarks.

Everything is generated in the city's metric CRS (UTM 51N) from one seed, so
the same seed gives the same city. Names and codes are fictional (the code
prefix 3799 is not assigned in GB/T 2260) and the city is marked as demo data.

The city is built to look and behave like one: districts, streets and
communities nest exactly (Voronoi cells of Voronoi cells); population is
dense in the core and in urban villages; toilets and garbage points follow
population but are sparser in urban villages and on the fringe, so the
coverage analysis finds real gaps; complaints cluster around markets, urban
villages and back streets over a background, with trends over 36 months, so
the hotspot analysis finds real hotspots.

- :mod:`data.demo.city`: ``generate(scale, seed)``, the steps in their order;
- :mod:`data.demo.model`: the scales, the city's rows, its frame (CRS, origin, dates);
- :mod:`data.demo.areas`, :mod:`~data.demo.roads`, :mod:`~data.demo.facilities`,
  :mod:`~data.demo.complaints`: the steps; :mod:`~data.demo.names`,
  :mod:`~data.demo.shapes`: what they draw from;
- :mod:`data.demo.load`: ``load(conn, city)``, COPY into PostGIS in the caller's transaction;
  :mod:`data.demo.bulk`: the complaints' indexes and derived tables built once after their COPY.
"""
