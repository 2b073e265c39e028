"""The seed file: known state and known credentials at start (``kohorte serve --seed``)."""
