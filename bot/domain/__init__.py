"""Pure rules of the sign-off: readiness, who may sign what, when a release is approved. No I/O."""
