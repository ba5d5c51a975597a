"""The sign-off's rules and values, with no I/O: the checklist as app.yaml declares it,
readiness, who may sign what and when, when a release is approved and why not (reasons),
what happened (notices), and phrases that each surface renders its own way."""
