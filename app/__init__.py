"""桐乡工业全域治理云图 — the web service."""
