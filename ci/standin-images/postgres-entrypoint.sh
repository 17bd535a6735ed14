#!/usr/bin/env bash
# The official postgres image's entrypoint contract, condensed (docker-library/postgres):
# first start initdb's $PGDATA as POSTGRES_USER with POSTGRES_PASSWORD, creates POSTGRES_DB,
# runs /docker-entrypoint-initdb.d/*.sh|*.sql on a socket-only temporary server, then execs
# `postgres "$@"`. Arguments starting with '-' are postgres options (-c name=value).
set -Eeo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; }

if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

if [ "$1" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
	mkdir -p "$PGDATA"
	chown postgres:postgres "$PGDATA"
	chmod 00700 "$PGDATA" || :
	mkdir -p /var/run/postgresql
	chown postgres:postgres /var/run/postgresql
	chmod 03775 /var/run/postgresql || :
	exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = 'postgres' ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	: "${POSTGRES_USER:=postgres}"
	: "${POSTGRES_DB:=$POSTGRES_USER}"
	export POSTGRES_USER POSTGRES_DB
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != 'trust' ]; then
		log "Error: the database is uninitialized and no superuser password is set."
		log "       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust, not recommended)."
		exit 1
	fi
	log "initdb in $PGDATA (user $POSTGRES_USER)"
	# POSTGRES_INITDB_ARGS is a word list, as in the official image.
	# shellcheck disable=SC2086
	initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
		${POSTGRES_INITDB_ARGS:-} >/dev/null

	auth="${POSTGRES_HOST_AUTH_METHOD:-}"
	if [ -z "$auth" ]; then
		auth=scram-sha-256
	fi
	printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"

	# A socket-only temporary server for POSTGRES_DB and the init scripts.
	shift_args=("${@:2}")
	temp_args=("${shift_args[@]}" -c "listen_addresses=" -p "${PGPORT:-5432}")
	PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "${temp_args[@]}")" -w start >/dev/null
	export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD:-}}"
	psql_cmd=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
	if [ "$POSTGRES_DB" != 'postgres' ]; then
		exists=$("${psql_cmd[@]}" --dbname postgres --set db="$POSTGRES_DB" -tA \
			<<<"SELECT 1 FROM pg_database WHERE datname = :'db'")
		if [ -z "$exists" ]; then
			"${psql_cmd[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >/dev/null
		fi
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		# shellcheck disable=SC1090 # the init scripts are the user's
		case "$f" in
			*.sh)     log "running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
			*.sql)    log "running $f"; "${psql_cmd[@]}" --dbname "$POSTGRES_DB" -f "$f" >/dev/null ;;
			*.sql.gz) log "running $f"; gunzip -c "$f" | "${psql_cmd[@]}" --dbname "$POSTGRES_DB" >/dev/null ;;
			*)        log "ignoring $f" ;;
		esac
	done
	PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
	unset PGPASSWORD
	log "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
