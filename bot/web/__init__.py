"""The HTTP surface: Slack's requests and /healthz (server.py), the pipeline API and its
request and answer shapes (api.py, schemas.py), request metrics and /metrics (metrics.py)."""
