"""Synthetic corpora in the five native source formats."""
