"""Users of a workspace: tracking, identification and merges, aliases, deletion, export, import."""
