"""The Slack surface: a Bolt app whose listeners ack, call a service, and render blocks."""
