"""The standard-address table (地址库) and fuzzy matching of callers' addresses against it."""
