#!/bin/sh
# refuse-overrides.sh -- creatio-farm start-up check of the Identity Service's entrypoint (the nodes' entrypoint
# has the same check inline):
#
#   sh refuse-overrides.sh OVERLAY APP_DIR MERGE_AWK [COMMAND ARGS...]
#
# .NET reads appsettings.json, then appsettings.<environment>.json, environment variables and command-line
# arguments, each overriding the ones before. None of them may set a top-level member of OVERLAY (the keys the
# farm merged into APP_DIR/appsettings.json): the environment's appsettings file (ASPNETCORE_ENVIRONMENT, which
# the farm pins to Production, so a shipped appsettings.Development.json is never read), this process's
# environment and the command's arguments (an --environment among them too) are checked.
# Exit 0, or 2 with one "creatio-farm: … refusing to start" line on stderr. CREATIO_AWK names the awk ("awk").
# POSIX sh: works with dash and busybox sh.
set -eu

die() { printf 'creatio-farm: %s\n' "$*" >&2; exit 2; }

[ "$#" -ge 3 ] || die "usage: refuse-overrides.sh OVERLAY APP_DIR MERGE_AWK [COMMAND ARGS...]"
overlay=$1
app_dir=$2
merge_awk=$3
shift 3
awk_cmd=${CREATIO_AWK:-awk}

env_name=${ASPNETCORE_ENVIRONMENT:-${DOTNET_ENVIRONMENT:-Production}}
case $env_name in
  '' | *[!A-Za-z0-9_.-]*) die "ASPNETCORE_ENVIRONMENT '$env_name' is not an environment name; refusing to start" ;;
esac
later=$app_dir/appsettings.$env_name.json
if [ -f "$later" ]; then
  # shellcheck disable=SC2086 # awk_cmd may be two words ("busybox awk")
  LC_ALL=C $awk_cmd -v check_only=1 -f "$merge_awk" "$overlay" "$later" \
    || die "$later sets what the farm sets in appsettings.json (environment $env_name); refusing to start"
fi
# The overlay is rendered by creatio-farm with two-space indentation: its top-level members are its sections.
sections=$(sed -n 's/^  "\([A-Za-z0-9]*\)":.*/\1/p' "$overlay" | tr 'A-Z' 'a-z')
[ -n "$sections" ] || die "$overlay names no section; refusing to start"
overrides() { # $1 = a configuration key as the environment or the command line spells it
  key=$(printf '%s' "$1" | tr 'A-Z' 'a-z')
  key=${key#aspnetcore_}
  key=${key#dotnet_}
  for section in $sections; do
    case $key in
      "$section" | "$section"__* | "$section":*) return 0 ;;
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
  case $(printf '%s' "$key" | tr 'A-Z' 'a-z') in
    environment) die "command-line argument $arg would read another environment's appsettings file; refusing to start" ;;
  esac
done
