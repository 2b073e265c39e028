"""Membership history: cohort and user history, the kept window, pruning."""
