"""The Braze-compatible partner cohort import surface, kept apart from everything else."""
