#!/bin/sh
# creatio-farm: installs a new haproxy.cfg (and the Lua task it loads) into the balancer's configuration volume and
# reloads the running HAProxy, so a configuration change never recreates the balancer: the master starts a new
# worker on the same listeners and the old one finishes the connections it holds (WebSockets, requests in flight).
#
# Runs as a one-shot job in the balancer's process namespace (the master is PID 1 there) whenever the files or the
# balancer container change. Exits non-zero, and so fails the apply, when the configuration is invalid or the
# reload does not take; then the files the balancer runs are put back, so the next run tries again.
#
# Environment: CREATIO_FARM_BALANCER_ID, the balancer container's id: the configuration is marked as installed for
# it, and a new balancer container waits for its own. Paths: /opt/creatio-farm/staged (the new files),
# /usr/local/etc/haproxy/farm (the volume the balancer reads), /var/lib/haproxy (HAProxy's home, shared: runtime
# socket and server state file). POSIX sh; perl (Debian's perl-base) only to save server states, skipped with a note
# where there is none.
set -eu

staged=/opt/creatio-farm/staged
live=/usr/local/etc/haproxy/farm
run=/var/lib/haproxy
files="haproxy.cfg release-down-nodes.lua"

log() { printf 'creatio-farm: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

balancer=${CREATIO_FARM_BALANCER_ID:-}
[ -n "$balancer" ] || die "CREATIO_FARM_BALANCER_ID is not set"
short=$(printf '%.12s' "$balancer")

# write_file DEST: stdin into DEST by an atomic rename in its directory, readable by the balancer's user.
write_file() {
  cat > "$1.new.$$" && chmod 0644 "$1.new.$$" && mv -f "$1.new.$$" "$1" || die "cannot write $1"
}

# Children of PID 1 that are haproxy: the workers.
workers() {
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null || true)" = haproxy ] || continue
    stat=$(cat "$p/stat" 2>/dev/null || true)
    set -- ${stat##*) }
    [ "${2:-}" = 1 ] && printf '%s\n' "${p#/proc/}"
  done
  return 0
}

# Puts back the files the balancer runs (kept in $live/previous) and fails.
restore_and_die() {
  for f in $files; do
    if [ -f "$live/previous/$f" ]; then write_file "$live/$f" < "$live/previous/$f"; else rm -f "$live/$f"; fi
  done
  die "$*"
}

# HAProxy reads the state file at every start; one with no entries holds just the format version.
[ -s "$run/servers.state" ] || printf '1\n' | write_file "$run/servers.state"

installed_for=$(cat "$live/installed-for" 2>/dev/null || true)
same=1
for f in $files; do cmp -s "$staged/$f" "$live/$f" || same=0; done
if [ "$same" = 1 ] && [ "$installed_for" = "$short" ]; then
  log "haproxy.cfg and release-down-nodes.lua unchanged; nothing to reload"
  exit 0
fi

mkdir -p "$live/previous"
for f in $files; do
  if [ -f "$live/$f" ]; then write_file "$live/previous/$f" < "$live/$f"; else rm -f "$live/previous/$f"; fi
done
# The Lua task first (haproxy.cfg loads it from there), then the check of the new configuration with it.
write_file "$live/release-down-nodes.lua" < "$staged/release-down-nodes.lua"
if ! out=$(haproxy -c -f "$staged/haproxy.cfg" 2>&1); then
  printf '%s\n' "$out" >&2
  restore_and_die "the new haproxy.cfg is invalid; the balancer keeps its current configuration"
fi
write_file "$live/haproxy.cfg" < "$staged/haproxy.cfg"

if [ "$installed_for" != "$short" ] || [ "$(cat /proc/1/comm 2>/dev/null || true)" != haproxy ]; then
  # A balancer container that has not started HAProxy yet: it waits for this mark, then starts on these files.
  printf '%s\n' "$short" | write_file "$live/installed-for"
  log "haproxy.cfg installed; the balancer starts with it"
  exit 0
fi

# Each server's state (DOWN, maintenance, a weight set at run time) goes over to the new worker, and only to it.
if command -v perl >/dev/null 2>&1 && [ -S "$run/admin.sock" ]; then
  perl -MIO::Socket::UNIX -e '
    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "cannot connect to $ARGV[0]: $!\n";
    print $s "show servers state\n";
    print while <$s>;
  ' "$run/admin.sock" > "$run/servers.state.new.$$" && chmod 0644 "$run/servers.state.new.$$" \
    && mv -f "$run/servers.state.new.$$" "$run/servers.state" \
    || { rm -f "$run/servers.state.new.$$"; log "note: server states could not be saved; the new worker starts from the configuration"; }
else
  log "note: no perl or no runtime socket here; the new worker starts from the configuration"
fi

before=$(workers)
kill -USR2 1 || restore_and_die "cannot signal the balancer's master process"
i=0
while [ "$i" -lt 300 ]; do
  for w in $(workers); do
    case " $(echo $before) " in
      *" $w "*) ;;
      *)
        # The new worker has read the states. The file goes back to empty, so that a later restart starts from
        # the configuration rather than from states this old (a node put back into service since then).
        sleep 1
        printf '1\n' | write_file "$run/servers.state"
        log "haproxy.cfg installed; reloaded (new worker $w)"
        exit 0
        ;;
    esac
  done
  sleep 0.1
  i=$((i + 1))
done
restore_and_die "the balancer did not start a new worker within 30 s of the reload (see docker logs of the balancer); it keeps running its previous configuration, which is back in place"
