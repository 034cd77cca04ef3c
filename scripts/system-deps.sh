#!/usr/bin/env bash
# Installs the Debian packages OneMap needs, only those missing (idempotent and fast when done).
set -euo pipefail
# gdal-bin: ogrinfo opens our exports in tests; chromium + CJK fonts: browser tests and the wall kiosk.
PKGS=(postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting gdal-bin python3-venv
      chromium fonts-noto-cjk python3-gdal  # python3-gdal: GDAL's validate_gpkg.py checks our GeoPackages
      libpango-1.0-0 libpangoft2-1.0-0)    # WeasyPrint typesets the bulletins' PDF with pango
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "OneMap needs: ${missing[*]} (Debian 12 packages). Install them, or set DATABASE_URL to a PostGIS+pgRouting database." >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
# The Debian postgresql package would start its own cluster on 5432; OneMap runs its own under var/.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
