# common.sh: what the shell tests share, sourced after they set $tmp (their scratch folder) and,
# for intact, $STARCHIVE_DB: the counters and checks, and starting the test servers.
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
expect() { # description expected-exit command...
	what=$1 want=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want"; cat "$tmp/out" "$tmp/err"; fi
}
has() { # description file pattern
	if grep -q -- "$3" "$2"; then ok; else bad "$1: no '$3' in:"; cat "$2"; fi
}
hasnt() { # description file pattern
	if grep -q -- "$3" "$2"; then bad "$1: unexpected '$3' in:"; cat "$2"; else ok; fi
}
same() { # description got want
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
intact() { # after-what: the archive passes SQLite's own checks
	r=$(sqlite3 "$STARCHIVE_DB" "PRAGMA integrity_check; PRAGMA foreign_key_check;" 2>&1)
	if [ "$r" = ok ]; then ok; else bad "archive integrity after $1: $r"; fi
}
# httpd.py's options for a TLS port with a self-signed certificate (one a verifying client must
# refuse), or nothing when openssl is missing
tls_args() {
	if command -v openssl >/dev/null 2>&1 && openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" \
		-out "$tmp/cert.pem" -days 2 -subj /CN=127.0.0.1 >/dev/null 2>&1; then
		echo "--tls-cert $tmp/cert.pem --tls-key $tmp/key.pem"
	fi
}
# Wait until a server has written FILE (its ports), at most ten seconds; 1 when it never did.
wait_for() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$1" ]
}
