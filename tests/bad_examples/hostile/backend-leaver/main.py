"""Prints a correct result, then starts a 10-minute query on another database (postgres) and
exits without waiting: the server does not notice the closed socket while the query sleeps,
so the backend stays open for the example's role."""

import os

import psycopg

import _lib as lib

lib.result({"now": lib.server_now()})
conn = psycopg.connect(dbname="postgres")
conn.pgconn.send_query(b"SELECT pg_sleep(600)")
conn.pgconn.flush()
os._exit(0)
