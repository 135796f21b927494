#!/bin/sh
# Options alone mean "haproxy with these options"; haproxy itself runs as master-worker (-W) in the foreground
# (-db), so the container's main process is the master and a reload is SIGUSR2 to it.
set -e
if [ "${1#-}" != "$1" ]; then
  set -- haproxy "$@"
fi
if [ "$1" = haproxy ]; then
  shift
  set -- haproxy -W -db "$@"
fi
exec "$@"
