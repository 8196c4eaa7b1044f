"""Use cases: inbound pipeline, outbound sending, acknowledgement tracking and replay."""
