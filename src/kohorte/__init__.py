"""kohorte: a self-hostable cohort store behind the Braze partner cohort import API."""

__version__ = "0.1.0"
