"""④ serve: read queries and the GeoJSON read API."""
