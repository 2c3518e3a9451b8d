"""Plates on cases: set and correct, earlier cases of the same plate, first-offence leniency, off-site handling."""
