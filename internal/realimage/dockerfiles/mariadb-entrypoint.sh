#!/bin/bash
# Like the official mariadb image: the first start initialises the data directory with a
# server that does not listen on TCP (--skip-networking), runs the init scripts there, then
# the real server listens on 3306. A TCP check therefore cannot pass during the
# initialisation, but a client that connects in the moment between can still be refused:
# that is what the mysql protocol probe is tested against.
set -euo pipefail
datadir=/var/lib/mysql
sock=/run/mysqld/init.sock
root_pw=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}
if [ ! -d "$datadir/mysql" ]; then
  if [ -z "$root_pw" ] && [ -z "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-${MYSQL_ALLOW_EMPTY_PASSWORD:-}}" ]; then
    echo "error: set MARIADB_ROOT_PASSWORD or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1" >&2
    exit 1
  fi
  chown -R mysql:mysql "$datadir"
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db --auth-root-authentication-method=normal >/dev/null
  mariadbd --user=mysql --datadir="$datadir" --skip-networking --socket="$sock" &
  pid=$!
  for _ in $(seq 1 120); do
    mariadb --socket="$sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.5
  done
  db=${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}
  user=${MARIADB_USER:-${MYSQL_USER:-}}
  pw=${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}
  {
    echo "CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '$root_pw'; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    [ -n "$db" ] && echo "CREATE DATABASE IF NOT EXISTS \`$db\`;"
    if [ -n "$user" ]; then
      echo "CREATE USER '$user'@'%' IDENTIFIED BY '$pw';"
      [ -n "$db" ] && echo "GRANT ALL ON \`$db\`.* TO '$user'@'%';"
    fi
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_pw'; FLUSH PRIVILEGES;"
  } | mariadb --socket="$sock" -uroot
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sql) mariadb --socket="$sock" -uroot -p"$root_pw" ${db:+"$db"} <"$f" ;;
      *.sh) . "$f" ;;
    esac
  done
  kill "$pid"
  wait "$pid" || true
  echo "MariaDB init process done. Ready for start up."
fi
if [ "$1" = mariadbd ]; then
  shift
  exec mariadbd --user=mysql --datadir="$datadir" --bind-address=0.0.0.0 --port=3306 "$@"
fi
exec "$@"
