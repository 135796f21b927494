#!/bin/bash
# creatio-farm: sets Creatio system settings through Creatio's own API, the way its UI does (SecureText values are
# encrypted by the platform), signed in as an administrator.
#
#   CREATIO_NODES            "host:port host:port …": the nodes, tried in turn until one answers its health check
#   CREATIO_FARM_DIR         default /opt/creatio-farm; holds admin-user, admin-password, settings.json (the
#                            PostSysSettingsValues request), query.json (the QuerySysSettings request) and
#                            setting-codes (one code per line)
#   CREATIO_WAIT_SECONDS     default 900; how long to wait for a node to answer its health check
#   CREATIO_HEALTH_PATH      default /api/HealthCheck/Ping
#
# Every value travels inside the request files the farm rendered (JSON, escaped there); this script never puts a
# value on a command line, in a variable that is expanded into code, or in its output. It only checks codes:
# a code this Creatio does not have fails the run, naming it, before anything is set. Plain HTTP/1.0 over bash's
# /dev/tcp: Creatio's images have bash, not curl. Re-runnable: setting the same values again changes nothing.
set -euo pipefail

fail() { echo "creatio-farm: $*" >&2; exit 1; }
log() { echo "creatio-farm: $*"; }

farm_dir=${CREATIO_FARM_DIR:-/opt/creatio-farm}
wait_seconds=${CREATIO_WAIT_SECONDS:-900}
health_path=${CREATIO_HEALTH_PATH:-/api/HealthCheck/Ping}
nodes=${CREATIO_NODES:?CREATIO_NODES is not set}
for f in admin-user admin-password settings.json query.json setting-codes; do
  [ -r "$farm_dir/$f" ] || fail "$farm_dir/$f is not readable"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A node that resets the connection while a request is written must not kill the script: the write fails instead.
trap '' PIPE
cookies=
csrf=

# request METHOD HOST:PORT PATH [BODY-FILE]: the answer's status in $status, its headers and body in files.
request() {
  local method=$1 target=$2 path=$3 body=${4:-}
  local host=${target%:*} port=${target##*:}
  status=0
  : > "$work/response"
  if ! exec 3<>"/dev/tcp/$host/$port"; then return 1; fi 2>/dev/null
  {
    printf '%s %s HTTP/1.0\r\nHost: %s\r\nAccept: application/json\r\n' "$method" "$path" "$target"
    if [ -n "$cookies" ]; then printf 'Cookie: %s\r\nBPMCSRF: %s\r\n' "$cookies" "$csrf"; fi
    if [ -n "$body" ]; then
      printf 'Content-Type: application/json; charset=utf-8\r\nContent-Length: %s\r\n' "$(wc -c < "$body")"
    elif [ "$method" = POST ]; then
      # Kestrel answers an HTTP/1.0 POST without a length with 400.
      printf 'Content-Length: 0\r\n'
    fi
    printf '\r\n'
    if [ -n "$body" ]; then cat "$body"; fi
  } >&3 || { exec 3<&-; return 1; }
  # HTTP/1.0: the server closes the connection after its answer, which ends the read.
  timeout 120 cat <&3 > "$work/response" || true
  exec 3<&-
  tr -d '\r' < "$work/response" | sed -n '1,/^$/p' > "$work/headers"
  tr -d '\r' < "$work/response" | sed '1,/^$/d' > "$work/body"
  status=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' "$work/headers")
  [ -n "$status" ] || status=0
}

# 1. A node that answers its health check, within the wait as a whole: each probe (connect and answer) is bounded.
healthy() { # $1 = host:port
  timeout 10 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" && printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$1" >&3 && read -r line <&3 && case $line in *" 200 "*) exit 0 ;; esac; exit 1' \
    probe "$1" "$health_path" 2>/dev/null
}
node=
deadline=$((SECONDS + wait_seconds))
while [ -z "$node" ]; do
  for candidate in $nodes; do
    if healthy "$candidate"; then node=$candidate; break; fi
  done
  [ -n "$node" ] && break
  [ "$SECONDS" -lt "$deadline" ] || fail "no node answered $health_path with 200 within $wait_seconds s ($nodes)"
  sleep 5
done
log "setting system settings through $node"

# 2. Sign in. The body is built here so the password never reaches a rendered file: JSON-escaped, control
#    characters refused.
user=$(cat "$farm_dir/admin-user")
[ -s "$farm_dir/admin-user" ] || fail "no administrator user name: set the Terraform variable creatio_admin_user"
[ -s "$farm_dir/admin-password" ] || fail "no administrator password: set the Terraform variable creatio_admin_password (TF_VAR_creatio_admin_password)"
for f in admin-user admin-password; do
  # Each file is the variable's value as it is: a line break or another control character would change it.
  if [ "$(wc -l < "$farm_dir/$f")" -ne 0 ] || LC_ALL=C grep -q '[[:cntrl:]]' "$farm_dir/$f"; then
    fail "the administrator's ${f#admin-} holds a line break or another control character: not sent"
  fi
done
json_string() { printf '"'; sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$1"; printf '"'; }
{ printf '{"UserName":'; json_string "$farm_dir/admin-user"; printf ',"UserPassword":'; json_string "$farm_dir/admin-password"; printf '}'; } > "$work/login.json"
request POST "$node" /ServiceModel/AuthService.svc/Login "$work/login.json" || fail "cannot reach $node"
rm -f "$work/login.json"
if [ "$status" != 200 ] || ! grep -Eq '"Code" *: *0[,}]' "$work/body"; then
  fail "Creatio refused to sign in $user (HTTP $status: $(head -c 300 "$work/body")): check the Terraform variables creatio_admin_user and creatio_admin_password"
fi
cookies=$(sed -n 's/^[Ss]et-[Cc]ookie: *\([^;]*\).*/\1/p' "$work/headers" | paste -sd ';' - | sed 's/;/; /g')
csrf=$(sed -n 's/^[Ss]et-[Cc]ookie: *BPMCSRF=\([^;]*\).*/\1/p' "$work/headers" | tail -n 1)
[ -n "$cookies" ] || fail "Creatio signed $user in but set no cookie"

# 3. Every code known to this Creatio, or nothing is set. The answer lists unknown codes in "notFoundSettings";
#    an answer without that list is read by its "values" (an object per known code).
request POST "$node" /DataService/json/SyncReply/QuerySysSettings "$farm_dir/query.json" || fail "cannot reach $node"
[ "$status" = 200 ] || fail "QuerySysSettings answered HTTP $status: $(head -c 300 "$work/body")"
not_found=$(tr -d '\n' < "$work/body" | sed -n 's/.*"notFoundSettings" *: *\[\([^]]*\)\].*/[\1]/p')
unknown=
while IFS= read -r code; do
  [ -n "$code" ] || continue
  if grep -q '"notFoundSettings"' "$work/body"; then
    case $not_found in *"\"$code\""*) unknown="$unknown $code" ;; esac
  else
    grep -q "\"$code\" *: *{" "$work/body" || unknown="$unknown $code"
  fi
done < "$farm_dir/setting-codes"
[ -z "$unknown" ] || fail "this Creatio has no system setting with the code(s):$unknown; nothing was set (check systemSettings in the environment file)"

# 4. Set them, in one request. Creatio answers per code in "saveResult" (code: true when saved); every code must
#    be there as saved when the answer has it.
request POST "$node" /DataService/json/SyncReply/PostSysSettingsValues "$farm_dir/settings.json" || fail "cannot reach $node"
if [ "$status" != 200 ] || ! grep -Eq '"success" *: *true' "$work/body"; then
  fail "PostSysSettingsValues failed (HTTP $status: $(head -c 300 "$work/body"))"
fi
if grep -q '"saveResult"' "$work/body"; then
  unsaved=
  while IFS= read -r code; do
    [ -n "$code" ] || continue
    grep -Eq "\"$code\" *: *true" "$work/body" || unsaved="$unsaved $code"
  done < "$farm_dir/setting-codes"
  [ -z "$unsaved" ] || fail "Creatio did not save the system setting(s):$unsaved (HTTP $status: $(head -c 300 "$work/body"))"
fi
log "set $(grep -c . "$farm_dir/setting-codes") system setting(s): $(paste -sd ' ' "$farm_dir/setting-codes")"
request POST "$node" /ServiceModel/AuthService.svc/Logout || true
