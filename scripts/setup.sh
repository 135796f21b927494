#!/bin/sh
# `npm run setup`: the Debian packages the tests run real programs from (as root; apt-get). `--docker` adds what the
# Docker tier needs (docker.io, debootstrap); start dockerd yourself, or let .ci/run do it.
set -eu
packages="haproxy nginx libxml2-utils gawk busybox postgresql redis-server dash util-linux openssl"
case "${1:-}" in
  --docker) packages="$packages docker.io debootstrap" ;;
  "") ;;
  *) echo "usage: npm run setup [-- --docker]" >&2; exit 2 ;;
esac
need=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup: needs root to install:$need" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $need >/dev/null
  # The tests start their own daemons on free loopback ports; services the packages enabled are not wanted.
  for service in haproxy nginx postgresql redis-server; do
    case " $need " in *" $service "*) (systemctl disable --now "$service" || service "$service" stop) >/dev/null 2>&1 || true ;; esac
  done
  echo "setup: installed$need"
else
  echo "setup: every package is installed"
fi
