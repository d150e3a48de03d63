"""Feedback from industry (産業界の声): items, the 3P taxonomy, the ministry's answers, analysis."""
