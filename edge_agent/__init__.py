"""Wardcast edge agent: keeps a plan, fetches and verifies audio, plays on time, confirms."""
