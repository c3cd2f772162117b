#!/usr/bin/env bash
# Sourced by scripts/test: a throwaway PostgreSQL for the tests that run the record store on it
# (docs/CONTRACTS.md C7). Installs Debian's postgresql when missing, starts a private cluster on a free loopback
# port, exports ROBOTS_TEST_POSTGRES_URL, and stops and deletes the cluster when the script exits.
# An already set ROBOTS_TEST_POSTGRES_URL is used as it is.
if [ -z "${ROBOTS_TEST_POSTGRES_URL:-}" ]; then
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    say "installing postgresql (Debian package)"
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
    pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
  # PostgreSQL refuses to run as root: run it as the postgres user that Debian's package created.
  pg_as=()
  if [ "$(id -u)" = 0 ]; then pg_as=(runuser -u postgres --); fi
  pg_dir="$(mktemp -d /tmp/robots-pg.XXXXXX)"
  chmod 755 "$pg_dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$pg_dir"; fi
  pg_port="$("$ROOT/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 >"$pg_dir/initdb.log" 2>&1 \
    || { say "initdb failed:"; cat "$pg_dir/initdb.log" >&2; exit 1; }
  "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off" start >/dev/null \
    || { say "PostgreSQL did not start:"; cat "$pg_dir/server.log" >&2; exit 1; }
  stop_test_postgres() {
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$pg_dir"
  }
  trap stop_test_postgres EXIT
  export ROBOTS_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/postgres"
  say "PostgreSQL for the tests on 127.0.0.1:$pg_port"
fi
