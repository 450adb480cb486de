#!/bin/sh
# Runs one archive case: fixtures/archive/<sequence>/<sequence>.seq is a transcript. Lines that start
# with "  $ " are shell commands, run in order in a copy of the sequence's folder (numbered snapshots
# beside the transcript); the indented lines after a command are its expected output (standard error
# merged in; "  [N]" when it exits N). Any other line is commentary. 'starchive' in a command is the
# binary under test with --db archive.db; 'sql QUERY' prints a query's rows. After every command the
# archive must pass PRAGMA integrity_check, foreign_key_check and the FTS5 integrity check.
#   tests/archive-case.sh fixtures/archive/NAME/NAME.seq          run (diff -u on failure)
#   ARCHIVE_REGEN=1 tests/archive-case.sh fixtures/...seq         rewrite the transcript for review
set -u
seq_file=$1
dir=$(cd "$(dirname "$seq_file")" && pwd)
name=$(basename "$seq_file")
bin=${STARCHIVE:-$(pwd)/starchive}
helper=$(dirname "$bin")/tests/test-archive
[ -x "$helper" ] || { echo "ERROR: no $helper (make check builds it)"; exit 99; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/w" && cp -R "$dir"/. "$tmp/w"/ || exit 99

# the commands, each followed by a marker and the archive check
awk -v q="'" '
	function emit(cmd) {
		n++
		printf "echo %s@@@ %d%s\n", q, n, q
		printf "%s\nrc=$?; [ $rc -eq 0 ] || echo \"[$rc]\"\n", cmd
		printf "if [ -f archive.db ]; then r=$(\"$HELPER\" --check archive.db 2>&1); [ \"$r\" = ok ] || echo \"INTEGRITY: $r\"; fi\n"
	}
	/^  \$ / { emit(substr($0, 5)) }
' "$seq_file" >"$tmp/script.sh"

(
	cd "$tmp/w" || exit 99
	HELPER=$helper
	export HELPER
	cat >"$tmp/prelude.sh" <<EOF
starchive() { ${SC_VALGRIND:-} "$bin" --db archive.db "\$@"; }
sql() { "$helper" --sql archive.db "\$@"; }
EOF
	TZ=UTC LC_ALL=C STARCHIVE_TERM=0 sh -c ". '$tmp/prelude.sh'; . '$tmp/script.sh'" </dev/null
) >"$tmp/out" 2>&1

# the transcript as it came out: commentary and commands kept, each command's output replaced
awk -v outfile="$tmp/out" '
	BEGIN {
		n = 0
		while ((getline line < outfile) > 0) {
			if (line ~ /^@@@ [0-9]+$/) { n = substr(line, 5) + 0; cnt[n] = 0; continue }
			out[n, ++cnt[n]] = line
		}
		k = 0
	}
	/^  \$ / {
		print
		k++
		for (i = 1; i <= cnt[k]; i++)
			print "  " out[k, i]
		skipping = 1
		next
	}
	skipping && /^  / { next }
	{ skipping = 0; print }
' "$seq_file" >"$tmp/actual"
# (an empty output line is "  ", two spaces, as cram writes it)
cp "$seq_file" "$tmp/expected"

if [ "${ARCHIVE_REGEN:-}" = 1 ]; then
	cp "$tmp/actual" "$seq_file"
	echo "regenerated $seq_file"
	exit 0
fi
if ! diff -u "$tmp/expected" "$tmp/actual"; then
	echo "FAIL: $name (run with ARCHIVE_REGEN=1 to rewrite it, then review the diff)"
	exit 1
fi
echo "1 passed, 0 failed"
exit 0
