"""Case category from a report's free text."""
