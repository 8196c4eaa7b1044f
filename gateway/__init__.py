"""edigate's async service: channels, store, pipeline, routing and the admin API."""
