"""Use-cases. Each owns its transaction; none knows about Slack's wire format."""
