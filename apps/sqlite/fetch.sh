#!/bin/sh
# Fetches SQLite 3.52.0 (shell.c + the amalgamation) from the npm package sqlite3@6.0.1, which
# ships deps/sqlite-autoconf-3520000.tar.gz, into a cache outside the repository, once:
#   $KILN_CACHE (default: ~/.cache/kiln)/sqlite-autoconf-3520000/
# Prints that directory. Needs npm and network access the first time only.
set -eu
cache="${KILN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln}"
src="$cache/sqlite-autoconf-3520000"
if [ ! -f "$src/sqlite3.c" ] || [ ! -f "$src/shell.c" ]; then
	mkdir -p "$cache"
	tmp="$(mktemp -d "$cache/fetch.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	npm pack sqlite3@6.0.1 --pack-destination "$tmp" --silent >/dev/null
	tar -xzf "$tmp/sqlite3-6.0.1.tgz" -C "$tmp" package/deps/sqlite-autoconf-3520000.tar.gz
	tar -xzf "$tmp/package/deps/sqlite-autoconf-3520000.tar.gz" -C "$tmp"
	rm -rf "$src"
	mv "$tmp/sqlite-autoconf-3520000" "$src"
fi
echo "$src"
