"""The partner cohort import surface: syncs, cohort reads, matching, unmatched identifiers."""
