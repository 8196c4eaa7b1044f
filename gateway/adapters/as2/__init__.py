"""The AS2 channel (RFC 4130, RFC 5402): protocol core, inbound endpoint, outbound channel, MDNs.

* :mod:`.protocol`: the pure core (bytes in, bytes and typed results out);
* :class:`As2Inbound`: ``POST /as2`` (store first, then a sync or async MDN);
* :class:`As2MdnReceiver`: ``POST /as2/mdn`` (async MDNs for what we sent);
* :class:`As2PartnerChannel` (kind ``as2``) and :class:`As2MdnChannel` (kind ``as2-mdn``):
  the PartnerChannels the Sender worker drives, with retries;
* :func:`install_as2`: the one call the composition root makes.
"""

from gateway.adapters.as2.channel import As2PartnerChannel, content_type_for
from gateway.adapters.as2.client import HttpClient, HttpResponse
from gateway.adapters.as2.inbound import As2Inbound, Reply
from gateway.adapters.as2.install import As2Install, install_as2
from gateway.adapters.as2.keys import KeyLoadError, KeyStore, generate_self_signed, load_private_key
from gateway.adapters.as2.mdn_channel import As2MdnChannel
from gateway.adapters.as2.mdn_receiver import As2MdnReceiver

__all__ = [
    "As2Inbound",
    "As2Install",
    "As2MdnChannel",
    "As2MdnReceiver",
    "As2PartnerChannel",
    "HttpClient",
    "HttpResponse",
    "KeyLoadError",
    "KeyStore",
    "Reply",
    "content_type_for",
    "generate_self_signed",
    "install_as2",
    "load_private_key",
]
