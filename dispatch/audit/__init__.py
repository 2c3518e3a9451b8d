"""Tamper evidence: the hash chain over each case's timeline and the daily anchors over all chains."""
