"""PostGIS access and the rules that keep data true: cluster, migrations, SQL, loaders."""
