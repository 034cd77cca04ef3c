"""Database infrastructure: connections and pool, migrations, named SQL files, the local cluster."""
