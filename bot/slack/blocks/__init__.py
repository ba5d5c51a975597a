"""Block Kit as pure functions of domain values."""
