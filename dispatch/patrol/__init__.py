"""Patrol and duty (勤务): rosters of beats and shifts, patrols, positions, check-ins and the duty log."""
