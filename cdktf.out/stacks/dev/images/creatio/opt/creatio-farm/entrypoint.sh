#!/bin/sh
# creatio-farm entrypoint: patch the Creatio configuration for web-farm operation,
# then exec the real command (e.g. `dotnet Terrasoft.WebHost.dll`).
#
# Environment:
#   CREATIO_TENANT_ID  required, positive integer; the TenantId of <appSettings>
#                      (set, or inserted when the key is missing)
#   CREATIO_FARM_DIR   default /opt/creatio-farm; holds appsettings.farm.json,
#                      patch-webhost-config.awk and merge-appsettings.awk
#   CREATIO_APP_DIR    default /app; holds Terrasoft.WebHost.dll.config and
#                      appsettings.json
#   CREATIO_AWK        default "awk"; the awk to run (may be "busybox awk")
#   CREATIO_AUTH_PROVIDERS
#                      optional; comma-separated sign-in providers, the only ones
#                      <auth providerNames> keeps (a portal node: SSPUserPassword)
#   CREATIO_SAU_PASSWORD_FILE
#                      optional; file holding the UserManagementSauPassword that
#                      replaces the distribution's public one
#   CREATIO_DATA_PROTECTION_KEYS
#                      optional; the shared DataProtection key directory. When it
#                      holds no key-*.xml it is seeded from the ring the image
#                      build generated ($CREATIO_FARM_DIR/data-protection-seed);
#                      with no key either way the node does not start. A warning
#                      says when every key there has expired
#
# The same step runs at image build (configure-web-farm.sh) and at every start.
# Each file is rewritten through a temp file in its own directory (same file mode,
# `mv` is an atomic rename) and only when its bytes change, so restarting a node is
# a no-op. Any failure stops the container before Creatio starts (fail closed): a
# node running non-clustered Quartz would double-fire scheduled jobs, one with its
# own application store would serve stale data.
# POSIX sh: works with dash and busybox sh.
set -eu

log() { printf 'creatio-farm: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

farm_dir=${CREATIO_FARM_DIR:-/opt/creatio-farm}
app_dir=${CREATIO_APP_DIR:-/app}
awk_cmd=${CREATIO_AWK:-awk}

[ "$#" -gt 0 ] || die "no command given; usage: entrypoint.sh <command> [args...]"

tenant_id=${CREATIO_TENANT_ID:-}
case $tenant_id in
  '') die "CREATIO_TENANT_ID is not set; refusing to start" ;;
  *[!0-9]* | 0*) die "CREATIO_TENANT_ID must be a positive integer (got '$tenant_id'); refusing to start" ;;
esac

webhost_config=$app_dir/Terrasoft.WebHost.dll.config
appsettings=$app_dir/appsettings.json
overlay=$farm_dir/appsettings.farm.json
patch_awk=$farm_dir/patch-webhost-config.awk
merge_awk=$farm_dir/merge-appsettings.awk

for f in "$patch_awk" "$merge_awk" "$overlay"; do
  [ -f "$f" ] || die "$f not found; refusing to start"
done
[ -f "$webhost_config" ] || die "$webhost_config not found; refusing to start a farm node without clustered Quartz"

cur_tmp=
cleanup() {
  if [ -n "$cur_tmp" ]; then rm -f "$cur_tmp"; fi
  cur_tmp=
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

new_tmp() { # $1 = file the temp file will replace (always contains a "/")
  cur_tmp=$(mktemp "${1%/*}/.${1##*/}.farm.XXXXXX") \
    || die "cannot create a temp file next to $1; refusing to start"
}

# install_tmp TARGET: replace TARGET by the temp file if the bytes differ.
install_tmp() {
  if [ -f "$1" ] && cmp -s "$cur_tmp" "$1"; then
    cleanup
    log "$1 unchanged"
  else
    mv -f "$cur_tmp" "$1" || die "cannot replace $1; refusing to start"
    cur_tmp=
    log "$1 patched"
  fi
}

# patch_file TARGET AWK-ARGS...: run awk with AWK-ARGS (they name the input files) into
# a temp copy of TARGET (cp -p first, so the mode/owner of TARGET are kept).
patch_file() {
  target=$1
  shift
  [ -r "$target" ] && [ -w "$target" ] || die "$target is not readable and writable; refusing to start"
  new_tmp "$target"
  cp -p "$target" "$cur_tmp" || die "cannot copy $target; refusing to start"
  # shellcheck disable=SC2086 # awk_cmd may be two words ("busybox awk")
  if ! LC_ALL=C $awk_cmd "$@" > "$cur_tmp"; then
    cleanup
    die "patching $target failed; refusing to start"
  fi
  install_tmp "$target"
}

patch_file "$webhost_config" -v "tenant_id=$tenant_id" -v require_redis_stores=1 \
  -v "auth_providers=${CREATIO_AUTH_PROVIDERS:-}" -v "sau_password_file=${CREATIO_SAU_PASSWORD_FILE:-}" \
  -f "$patch_awk" "$webhost_config"

if [ -f "$appsettings" ]; then
  patch_file "$appsettings" -f "$merge_awk" "$overlay" "$appsettings"
else
  new_tmp "$appsettings"
  cat "$overlay" > "$cur_tmp" || die "cannot write $appsettings; refusing to start"
  chmod 0644 "$cur_tmp"
  mv -f "$cur_tmp" "$appsettings" || die "cannot create $appsettings; refusing to start"
  cur_tmp=
  log "$appsettings patched (created from $overlay)"
fi

# .NET reads appsettings.json, then appsettings.<environment>.json, environment variables and command-line
# arguments, each overriding the ones before: none of them may set a member the farm sets (ForwardedHeaders would
# otherwise trust a wider network, DataProtection use another key ring).
env_name=${ASPNETCORE_ENVIRONMENT:-${DOTNET_ENVIRONMENT:-Production}}
for later in "$app_dir"/appsettings.*.json; do
  [ -f "$later" ] || continue
  case ${later##*/} in
    appsettings.farm.json) continue ;;
  esac
  # The environment's file is the one .NET reads; the others are checked too, so switching the environment
  # cannot bring an override in.
  LC_ALL=C $awk_cmd -v check_only=1 -f "$merge_awk" "$overlay" "$later" \
    || die "$later sets what the farm sets in appsettings.json (environment $env_name); refusing to start"
done
# The overlay is rendered by creatio-farm with two-space indentation: its top-level members are its sections.
sections=$(sed -n 's/^  "\([A-Za-z]*\)":.*/\1/p' "$overlay" | tr 'A-Z' 'a-z')
[ -n "$sections" ] || die "$overlay names no section; refusing to start"
overrides() { # $1 = a configuration key as the environment or the command line spells it
  key=$(printf '%s' "$1" | tr 'A-Z' 'a-z')
  key=${key#aspnetcore_}
  key=${key#dotnet_}
  for section in $sections; do
    case $key in
      "$section"__* | "$section":*) return 0 ;;
    esac
  done
  return 1
}
for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_:.]*\)=.*/\1/p'); do
  if overrides "$name"; then die "environment variable $name overrides what the farm sets in appsettings.json; refusing to start"; fi
done
# .NET's command line takes key=value, --key=value, /key=value and --key value: every argument is looked at, up to
# its "=".
for arg in "$@"; do
  key=${arg%%=*}
  key=${key#--}
  key=${key#/}
  if overrides "$key"; then die "command-line argument $arg overrides what the farm sets in appsettings.json; refusing to start"; fi
done

has_key() { # $1 = directory
  for f in "$1"/key-*.xml; do
    if [ -f "$f" ]; then return 0; fi
  done
  return 1
}

# has_active_key DIR: a key whose expirationDate (ISO 8601, UTC) is still ahead.
has_active_key() {
  now=$(date -u +%Y-%m-%dT%H:%M:%S)
  for f in "$1"/key-*.xml; do
    [ -f "$f" ] || continue
    expires=$(sed -n 's:.*<expirationDate>\([^<]*\)</expirationDate>.*:\1:p' "$f" | cut -c1-19)
    # Same format on both sides: expr compares them as strings.
    if [ -n "$expires" ] && expr "$expires" \> "$now" >/dev/null; then return 0; fi
  done
  return 1
}

keys_dir=${CREATIO_DATA_PROTECTION_KEYS:-}
seed_dir=$farm_dir/data-protection-seed
if [ -n "$keys_dir" ]; then
  if ! has_key "$keys_dir" && has_key "$seed_dir"; then
    # Docker fills an empty volume from the image; where it did not (a volume emptied by hand, another volume
    # driver), the ring the build generated is copied here. Nodes starting together copy the same files, each by
    # an atomic rename, so they agree.
    for f in "$seed_dir"/key-*.xml; do
      [ -f "$keys_dir/${f##*/}" ] && continue
      new_tmp "$keys_dir/${f##*/}"
      cp "$f" "$cur_tmp" && mv -f "$cur_tmp" "$keys_dir/${f##*/}" \
        || die "cannot seed the DataProtection key ring in $keys_dir; refusing to start"
      cur_tmp=
    done
    log "$keys_dir seeded with the key ring of the image"
  fi
  # Without a shared key every node would create its own, and users moving between nodes would be signed out.
  has_key "$keys_dir" || die "no DataProtection key in $keys_dir and none in $seed_dir; refusing to start a node that would create a key ring of its own"
  has_active_key "$keys_dir" \
    || log "warning: every DataProtection key in $keys_dir has expired; Creatio creates a new one at start, each node its own until the nodes reload the ring (up to a day): rebuild the node image to seed a fresh ring"
fi

trap - EXIT HUP INT TERM
exec "$@"
