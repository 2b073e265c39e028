"""Instance admin API: workspaces, their REST API keys, partners."""
