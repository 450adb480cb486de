#!/bin/sh
# Runs one parse case: fixtures/<kind>/<name>.args holds the arguments of 'starchive parse'
# (the input named relative to its folder). Beside it, <name>.expected is the exact JSON on success,
# or <name>.error the exact message on standard error of a run that must exit 1.
set -u
args_file=$1
dir=$(dirname "$args_file")
name=$(basename "$args_file" .args)
bin=${STARCHIVE:-$(pwd)/starchive}
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

args=$(sed -n '1p' "$args_file")
# shellcheck disable=SC2086 # the arguments are words on purpose
(cd "$dir" && TZ=UTC LC_ALL=C ${SC_VALGRIND:-} "$bin" parse $args) >"$tmp/out" 2>"$tmp/err"
rc=$?

if [ -f "$dir/$name.expected" ]; then
	if [ $rc -ne 0 ]; then
		echo "FAIL: exit $rc, expected 0"; cat "$tmp/err"; exit 1
	fi
	if [ -s "$tmp/err" ]; then
		echo "FAIL: unexpected standard error:"; cat "$tmp/err"; exit 1
	fi
	diff -u "$dir/$name.expected" "$tmp/out" || exit 1
elif [ -f "$dir/$name.error" ]; then
	if [ $rc -ne 1 ]; then
		echo "FAIL: exit $rc, expected 1"; cat "$tmp/out" "$tmp/err"; exit 1
	fi
	diff -u "$dir/$name.error" "$tmp/err" || exit 1
	if [ -s "$tmp/out" ]; then
		echo "FAIL: a failed parse printed to standard output"; exit 1
	fi
else
	echo "ERROR: $args_file has neither $name.expected nor $name.error"; exit 99
fi
exit 0
