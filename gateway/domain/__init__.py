"""The domain: canonical documents, partner profiles, message lifecycle and use cases."""
