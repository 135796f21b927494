#!/bin/sh
# creatio-farm entrypoint of the Identity Service: merge the farm's keys into the
# service's appsettings.json, check what it needs to start, then exec the service
# (e.g. `dotnet IdentityService.dll`).
#
# Environment:
#   CREATIO_FARM_DIR      default /opt/creatio-farm; holds appsettings.farm.json,
#                         merge-appsettings.awk (the nodes') and refuse-overrides.sh
#   IDENTITY_APP_DIR      default /app; holds the service's appsettings.json
#   IDENTITY_CERTIFICATE  required; the signing certificate (PKCS#12) the farm
#                         generated, which appsettings.farm.json names
#   CREATIO_AWK           default "awk"
#
# The merge replaces only the top-level keys the farm owns and keeps every other
# byte. appsettings.json is rewritten through a temp file and an atomic rename, and
# only when its bytes change. A later configuration source that would override a
# key the farm owns (appsettings.<environment>.json, an environment variable, a
# command-line argument) stops the container: fail closed.
# POSIX sh: works with dash and busybox sh.
set -eu

log() { printf 'creatio-farm: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

farm_dir=${CREATIO_FARM_DIR:-/opt/creatio-farm}
app_dir=${IDENTITY_APP_DIR:-/app}
awk_cmd=${CREATIO_AWK:-awk}
overlay=$farm_dir/appsettings.farm.json
merge_awk=$farm_dir/merge-appsettings.awk
appsettings=$app_dir/appsettings.json
certificate=${IDENTITY_CERTIFICATE:-}

[ "$#" -gt 0 ] || die "no command given; usage: entrypoint.sh <command> [args...]"
for f in "$overlay" "$merge_awk" "$farm_dir/refuse-overrides.sh"; do
  [ -f "$f" ] || die "$f not found; refusing to start"
done
[ -f "$appsettings" ] || die "$appsettings not found: is this an Identity Service image (IDENTITY_APP_DIR=$app_dir)? refusing to start"
[ -n "$certificate" ] || die "IDENTITY_CERTIFICATE is not set; refusing to start"
[ -s "$certificate" ] && [ -r "$certificate" ] \
  || die "the signing certificate $certificate is missing or unreadable (the certificate job makes it); refusing to start"

tmp=
trap '[ -z "$tmp" ] || rm -f "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

[ -r "$appsettings" ] && [ -w "$appsettings" ] || die "$appsettings is not readable and writable by $(id -un); refusing to start"
tmp=$(mktemp "$app_dir/.appsettings.json.farm.XXXXXX") || die "cannot create a temp file in $app_dir; refusing to start"
# cp -p first: the mode and owner of appsettings.json are kept.
cp -p "$appsettings" "$tmp" || die "cannot copy $appsettings; refusing to start"
# shellcheck disable=SC2086 # awk_cmd may be two words ("busybox awk")
LC_ALL=C $awk_cmd -f "$merge_awk" "$overlay" "$appsettings" > "$tmp" || die "merging $overlay into $appsettings failed; refusing to start"
if cmp -s "$tmp" "$appsettings"; then
  log "$appsettings unchanged"
else
  mv -f "$tmp" "$appsettings" || die "cannot replace $appsettings; refusing to start"
  log "$appsettings merged"
fi
rm -f "$tmp"
tmp=

# .NET reads appsettings.<environment>.json, environment variables and the command line after appsettings.json.
sh "$farm_dir/refuse-overrides.sh" "$overlay" "$app_dir" "$merge_awk" "$@" || exit 2

trap - EXIT HUP INT TERM
exec "$@"
