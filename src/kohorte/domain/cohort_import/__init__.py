"""Partner cohort import (Braze-compatible): credentials, requests, matching, sync."""
