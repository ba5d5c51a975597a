"""Use-cases. Each owns its transaction, reads its release once, and says what happened as
notices and domain errors; none knows Slack's syntax or wire format."""
