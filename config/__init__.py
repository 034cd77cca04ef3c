"""Configuration: the one ``Settings`` class (bottom layer: imports nothing of OneMap)."""
from config.settings import DEFAULT_REGION, Settings

__all__ = ["DEFAULT_REGION", "Settings"]
