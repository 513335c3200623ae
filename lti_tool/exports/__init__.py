"""Exports: exporters *render* claims into a file; destinations *deliver* the file."""
