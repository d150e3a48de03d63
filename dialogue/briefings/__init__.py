"""Threat and risk briefings, gated by clearance.policy."""
