"""Local stand-ins for running Readiness without a real service: the LUMINES demo target."""
