"""Typed settings: YAML defaults in default.yaml, overridden by GRIDPATROL_CONFIG and the environment."""
from config.settings import Settings, load

__all__ = ["Settings", "load"]
