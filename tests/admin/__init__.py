"""Instance administration: the admin API, permissions, usage, the command line."""
