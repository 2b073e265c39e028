"""The users API (/users/...), its services and the users CLI."""
