"""Pure geometry: datum transforms, grid building and validation. No I/O, no Dash."""
