"""bosun.observe: what the daemon tells the outside about itself — metrics, traces, webhooks.

`hooks` is the one seam the model gateway and the tool pipeline report through; the
Prometheus endpoint (`metrics`), the OpenTelemetry traces (`tracing`) and the webhook
outbox (`webhooks`) each listen there or on the board's events (docs/observability.md).
"""
