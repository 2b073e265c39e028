"""SQL of partner cohort import: credentials, rate-limit windows, cohort rows, the sync log."""
