"""The electronic case file (一案一档): everything on record about one case, in one place."""
