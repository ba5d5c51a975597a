"""Block Kit and mrkdwn as pure functions of domain values: the card, modals, Home, replies,
the notices as messages, and phrases with live mentions (text.py)."""
