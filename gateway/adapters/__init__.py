"""Adapters: one external library per module, translating its errors at the edge."""
