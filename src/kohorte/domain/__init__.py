"""Domain services: the matcher, cohort sync, keys, users, segments. Know nothing of HTTP."""
