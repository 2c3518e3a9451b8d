"""Vision stages: frame sources, detection, tracking, rules and geolocation; no HTTP, no database."""
