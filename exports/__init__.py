"""Export file formats: streaming writers that take column specs and chunks of rows, know nothing
of layers or users, and write only to the path they are given (the caller renames it into place)."""
