"""The message lifecycle, gateway errors, stored-record types and the ports adapters implement."""
