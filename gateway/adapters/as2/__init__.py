"""The AS2 channel (RFC 4130, RFC 5402): protocol core, inbound endpoint, outbound channel, MDNs.

The pure protocol core lives in :mod:`gateway.adapters.as2.protocol` (bytes in, bytes and
typed results out); key loading in :mod:`gateway.adapters.as2.keys`.
"""

from gateway.adapters.as2.keys import KeyLoadError, KeyStore, generate_self_signed, load_private_key

__all__ = ["KeyLoadError", "KeyStore", "generate_self_signed", "load_private_key"]
