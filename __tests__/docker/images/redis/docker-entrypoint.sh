#!/bin/sh
# Options or a .conf file alone mean "redis-server with these arguments". Started as root, the entrypoint hands
# /data to the redis user and drops to it, so the server never runs as root.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find /data \! -user redis -exec chown redis:redis '{}' +
  umask 0077
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
