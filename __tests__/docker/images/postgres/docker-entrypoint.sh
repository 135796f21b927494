#!/bin/sh
# The official image's contract, in a small script of our own:
# - options alone mean "postgres with these options";
# - started as root, it reads POSTGRES_PASSWORD_FILE into POSTGRES_PASSWORD (so the file may be root's, 0600),
#   prepares PGDATA and the socket directory and re-runs itself as postgres;
# - on an empty PGDATA it runs initdb with POSTGRES_USER / POSTGRES_PASSWORD, allows password logins over TCP,
#   creates POSTGRES_DB, then runs /docker-entrypoint-initdb.d/* against a server started with the same options
#   (hba_file included) that listens on the socket only:
#   *.sh executed when executable for this user, sourced otherwise; *.sql fed to psql;
# - then it execs the server, listening on every interface.
set -eu
if [ "${1#-}" != "$1" ]; then
  set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
  exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
      echo "postgres entrypoint: both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set (but are exclusive)" >&2
      exit 1
    fi
    POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
    export POSTGRES_PASSWORD
    unset POSTGRES_PASSWORD_FILE
  fi
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups /bin/sh "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres entrypoint: POSTGRES_PASSWORD is empty; refusing to initialize a database without a superuser password" >&2
    exit 1
  fi
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  rm -f "$pwfile"
  printf '\nhost all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"

  shift
  pg_ctl -D "$PGDATA" -o "$* -c listen_addresses=''" -w start >/dev/null
  set -- postgres "$@"
  export PGUSER="$user"
  if [ "$db" != postgres ]; then
    psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname postgres -c "CREATE DATABASE \"$db\"" >/dev/null
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh)
        if [ -x "$f" ]; then
          echo "postgres entrypoint: running $f"
          "$f"
        else
          echo "postgres entrypoint: sourcing $f"
          . "$f"
        fi
        ;;
      *.sql)
        echo "postgres entrypoint: running $f"
        psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname "$db" -f "$f"
        ;;
      *'/*') ;;
      *) echo "postgres entrypoint: ignoring $f" ;;
    esac
  done
  unset PGUSER
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "postgres entrypoint: database initialized"
fi
exec "$@"
