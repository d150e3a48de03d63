"""Account administration and the audit log browser."""
