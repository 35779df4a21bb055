"""What several benchmark subjects share: start-up, process readings, metrics, reports."""
