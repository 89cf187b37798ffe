"""Ingest: the pipeline from upload, API, hot folder and bulk import to stored versions."""
