"""The running process: the composition root (settings -> database -> services -> Slack
app -> web), the scheduler, logs, metrics and the clock."""
