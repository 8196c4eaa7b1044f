"""Test helpers shared across test packages: real-service checks and a connection-cutting TCP proxy."""
