#!/bin/sh
# creatio-farm: the node image's build step (RUN in the rendered Dockerfile).
#
# Configures the Creatio image for web-farm operation once, at build, the way Creatio's own web-farm example
# does: `dotnet Terrasoft.WebHost.dll configureWebFarmMode` sets TenantId, moves the application stores to Redis,
# generates a DataProtection key ring and sets DataProtection.CustomizeDataProtection. Then the farm's patch step
# applies the environment's settings on top (the same step every node runs at start) and the result is checked:
# the build fails unless the key directory holds a key, so every node starts from the same key ring.
#
# Environment (set by the Dockerfile): CREATIO_APP_DIR, CREATIO_FARM_DIR, CREATIO_DATA_PROTECTION_KEYS, and what
# entrypoint.sh reads. No key material is printed.
set -eu

log() { printf 'creatio-farm: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

app_dir=${CREATIO_APP_DIR:-/app}
farm_dir=${CREATIO_FARM_DIR:-/opt/creatio-farm}
keys_dir=${CREATIO_DATA_PROTECTION_KEYS:?CREATIO_DATA_PROTECTION_KEYS is not set}

cd "$app_dir"
log "running Creatio's configureWebFarmMode in $app_dir"
dotnet Terrasoft.WebHost.dll configureWebFarmMode \
  || die "dotnet Terrasoft.WebHost.dll configureWebFarmMode failed; the node image cannot be built (see README: the node image)"

# The patch step, without starting Creatio: `true` is the command it execs.
sh "$farm_dir/entrypoint.sh" true

count=0
for f in "$keys_dir"/key-*.xml; do
  if [ -f "$f" ]; then count=$((count + 1)); fi
done
[ "$count" -gt 0 ] \
  || die "configureWebFarmMode wrote no DataProtection key into $keys_dir (DataProtection.KeysDirectory of appsettings.json); refusing to build a node image whose nodes would each create their own keys"
# A second copy, outside the key directory: the entrypoint seeds the shared volume from it when Docker did not.
mkdir -p "$farm_dir/data-protection-seed"
cp -p "$keys_dir"/key-*.xml "$farm_dir/data-protection-seed/"
log "DataProtection key ring: $count key(s) in $keys_dir"
