"""Printable and exported output: the one PDF rendering path (pdf.py), charts and reports."""
