"""The RabbitMQ adapter (aio-pika): topology, the publishing destination and the outbound consumer."""

from gateway.adapters.rabbitmq.destination import RabbitDestination, amqp_message
from gateway.adapters.rabbitmq.outbound import (
    ERROR_HEADER,
    RETRIES_HEADER,
    SOURCE_HEADER,
    RabbitOutboundSource,
)
from gateway.adapters.rabbitmq.settings import RabbitSettings, RabbitTopology
from gateway.adapters.rabbitmq.topology import DeclaredTopology, declare_topology, delete_topology

__all__ = [
    "ERROR_HEADER",
    "RETRIES_HEADER",
    "SOURCE_HEADER",
    "DeclaredTopology",
    "RabbitDestination",
    "RabbitOutboundSource",
    "RabbitSettings",
    "RabbitTopology",
    "amqp_message",
    "declare_topology",
    "delete_topology",
]
