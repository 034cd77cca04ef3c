"""The demo county: Otog Front Banner's real boundary with a synthetic grid, places and history."""
