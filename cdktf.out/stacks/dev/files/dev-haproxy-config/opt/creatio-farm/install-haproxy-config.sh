#!/bin/sh
# creatio-farm: installs a new haproxy.cfg (and the Lua task it loads) into the balancer's configuration volume and
# reloads the running HAProxy, so a configuration change never recreates the balancer: the master starts a new
# worker on the same listeners and the old one finishes the connections it holds (WebSockets, requests in flight).
#
# Runs as a one-shot job in the balancer's process namespace (the master is PID 1 there), once per new
# configuration. Exits non-zero, and so fails the apply, when the configuration is invalid or the reload does not
# take; the running balancer keeps its configuration either way.
#
# Environment: none. Paths: /opt/creatio-farm/staged (the new files), /usr/local/etc/haproxy/farm (the volume the
# balancer reads), /var/lib/haproxy (HAProxy's home, shared: runtime socket and server state file).
# POSIX sh; perl (Debian's perl-base) only to save server states, skipped with a note where there is none.
set -eu

staged=/opt/creatio-farm/staged
live=/usr/local/etc/haproxy/farm
run=/var/lib/haproxy

log() { printf 'creatio-farm: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# install SRC DEST: an atomic rename in DEST's directory, readable by the balancer's user.
install_file() {
  cp "$1" "$2.new.$$" && chmod 0644 "$2.new.$$" && mv -f "$2.new.$$" "$2" || die "cannot write $2"
}

# Children of PID 1 that are haproxy: the workers.
workers() {
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null || true)" = haproxy ] || continue
    stat=$(cat "$p/stat" 2>/dev/null || true)
    rest=${stat##*) }
    set -- $rest
    [ "${2:-}" = 1 ] && printf '%s\n' "${p#/proc/}"
  done
  return 0
}

# HAProxy reads the state file at every start; one with no entries holds just the format version.
[ -s "$run/servers.state" ] || { printf '1\n' > "$run/servers.state.new.$$" && chmod 0644 "$run/servers.state.new.$$" && mv -f "$run/servers.state.new.$$" "$run/servers.state"; } \
  || die "cannot write $run/servers.state"

# The Lua task first: the running worker keeps the copy it loaded; the check below loads the new one.
install_file "$staged/release-down-nodes.lua" "$live/release-down-nodes.lua"
if ! out=$(haproxy -c -f "$staged/haproxy.cfg" 2>&1); then
  printf '%s\n' "$out" >&2
  die "the new haproxy.cfg is invalid; the balancer keeps its current configuration"
fi

if [ -s "$live/haproxy.cfg" ] && cmp -s "$staged/haproxy.cfg" "$live/haproxy.cfg"; then
  log "haproxy.cfg unchanged; nothing to reload"
  exit 0
fi
install_file "$staged/haproxy.cfg" "$live/haproxy.cfg"

if [ "$(cat /proc/1/comm 2>/dev/null || true)" != haproxy ]; then
  # The balancer waits for its first configuration; it starts with this one.
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
kill -USR2 1 || die "cannot signal the balancer's master process"
i=0
while [ "$i" -lt 300 ]; do
  for w in $(workers); do
    case " $(echo $before) " in
      *" $w "*) ;;
      *)
        # The new worker has read the states. The file goes back to empty, so that a later restart starts from
        # the configuration rather than from states this old (a node put back into service since then).
        sleep 1
        printf '1\n' > "$run/servers.state.new.$$" && chmod 0644 "$run/servers.state.new.$$" && mv -f "$run/servers.state.new.$$" "$run/servers.state" \
          || log "note: could not empty $run/servers.state"
        log "haproxy.cfg installed; reloaded (new worker $w)"
        exit 0
        ;;
    esac
  done
  sleep 0.1
  i=$((i + 1))
done
die "the balancer did not start a new worker within 30 s of the reload (see docker logs of the balancer); it keeps its current configuration"
