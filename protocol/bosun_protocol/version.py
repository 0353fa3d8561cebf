"""The protocol version a client and the daemon compare at `initialize`."""

# Semantic: a client refuses a daemon whose major differs; minor adds methods/fields.
PROTOCOL_VERSION = "0.1.0"
