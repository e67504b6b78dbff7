"""Extraction writes, by subject: studies (and outcomes, comparisons, settings), forms, extracting."""
