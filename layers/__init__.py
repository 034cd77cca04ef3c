"""Map layer definitions shared by the map, the exports and the OGC API."""
