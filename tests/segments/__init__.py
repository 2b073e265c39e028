"""Segments: definitions, filters, members, series and exports."""
