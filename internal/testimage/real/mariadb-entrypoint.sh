#!/bin/sh
# First start: initialise, create the app user and run /docker-entrypoint-initdb.d/*.sql on a
# server that does not listen on TCP (as the official image does), then run the real server.
set -e
sock=/run/mysqld/init.sock
if [ ! -d /var/lib/mysql/mysql ]; then
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
  mariadbd --user=mysql --skip-networking --socket="$sock" &
  pid=$!
  i=0
  until mariadb --socket="$sock" -e 'select 1' >/dev/null 2>&1; do
    i=$((i+1)); [ $i -lt 240 ] || { echo "init server did not start" >&2; exit 1; }; sleep 0.25
  done
  mariadb --socket="$sock" -e "CREATE USER 'app'@'%' IDENTIFIED BY '${MARIADB_PASSWORD:-app}'; GRANT ALL ON *.* TO 'app'@'%'; CREATE DATABASE app;"
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$f" ] && mariadb --socket="$sock" app <"$f"
  done
  kill "$pid"; wait "$pid" || true
  echo "MariaDB init process done. Ready for start up."
fi
exec "$@" --user=mysql --bind-address=0.0.0.0 --skip-name-resolve
