#!/bin/sh
# demo.sh: the oxsock demonstration (run by `make demo`, after the examples are built).
#
# Starts the C echo server (c-examples/echo_server) on TCP over IPv4, TCP over
# IPv6 and a Unix socket in turn, talks to each with the C echo client, says
# what happened, stops the server with SIGTERM and checks that it exited 0.
# Ports are chosen by the kernel (port 0), files go to a temporary folder.
# Exits non-zero if anything failed. Every wait is bounded (about 30 s in all).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/c-examples/build"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/oxsock-demo.XXXXXX")
SERVER_PID=""
FAILED=0

cleanup() {
    if [ -n "$SERVER_PID" ]; then kill -9 "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for prog in echo_server echo_client tls_echo_server tls_client; do
    if [ ! -x "$BIN/$prog" ]; then
        echo "demo: $BIN/$prog is missing: run 'make examples' (or 'make demo') first" >&2
        exit 1
    fi
done

# waits (at most 5 s) for the server's "listening on ADDRESS" line; prints ADDRESS
wait_listening() {
    i=0
    while [ $i -lt 100 ]; do
        addr=$(sed -n 's/^listening on //p' "$TMP/server.out" | head -n 1)
        if [ -n "$addr" ]; then echo "$addr"; return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# stops the server with SIGTERM; succeeds when it exits 0 within 5 s
stop_server() {
    sleep 0.1 # let the server get back into its blocking accept (see c-examples/example.h)
    kill -TERM "$SERVER_PID" 2>/dev/null
    i=0
    while kill -0 "$SERVER_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -9 "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=""
        return 1
    fi
    wait "$SERVER_PID"; status=$?
    SERVER_PID=""
    return $status
}

fail() {
    echo "  FAILED: $1"
    sed 's/^/    server: /' "$TMP/server.out"
    FAILED=1
}

# demo_one LABEL LISTEN_ENDPOINT SCHEME: one server, one client session
demo_one() {
    label=$1 listen=$2 scheme=$3
    echo "$label: echo_server $listen"
    # a new, empty output file first, so that no earlier server's line is read
    : >"$TMP/server.out"
    "$BIN/echo_server" "$listen" >>"$TMP/server.out" 2>&1 &
    SERVER_PID=$!
    if ! addr=$(wait_listening); then
        fail "the server did not start"
        stop_server
        return
    fi
    echo "  the server is listening on $addr"
    endpoint="$scheme://$addr"
    if reply=$(timeout 10 "$BIN/echo_client" "$endpoint" "hello from oxsock" "second line" 2>&1) \
        && [ "$reply" = "$(printf 'hello from oxsock\nsecond line')" ]; then
        echo "  echo_client $endpoint: sent 2 lines, got both back"
    else
        fail "echo_client $endpoint answered: $reply"
    fi
    if stop_server; then
        echo "  SIGTERM: the server stopped cleanly (exit status 0)"
    else
        fail "the server did not stop cleanly on SIGTERM"
    fi
}

echo "oxsock demo: the same C echo server and client on three kinds of socket"
demo_one "TCP over IPv4" "tcp://127.0.0.1:0" tcp
demo_one "TCP over IPv6" "tcp6://[::1]:0" tcp6
demo_one "Unix stream socket" "unix://$TMP/echo.sock" unix
if [ -e "$TMP/echo.sock" ]; then
    fail "the Unix socket file $TMP/echo.sock is still there after the server stopped"
else
    echo "  the socket file was removed when the server closed its listener"
fi

echo "TLS: tls_echo_server with a certificate made now (scripts/tls-test-certs.sh)"
if ! command -v openssl >/dev/null 2>&1; then
    fail "the openssl CLI is missing: cannot make the demo certificate"
elif ! sh "$ROOT/scripts/tls-test-certs.sh" "$TMP/certs" >/dev/null 2>&1; then
    fail "making the demo certificates failed"
else
    : >"$TMP/server.out"
    "$BIN/tls_echo_server" "$TMP/certs/server.pem" "$TMP/certs/server.key" "tls://127.0.0.1:0" >>"$TMP/server.out" 2>&1 &
    SERVER_PID=$!
    if ! addr=$(wait_listening); then
        fail "the TLS server did not start"
        stop_server
    else
        port=${addr##*:}
        endpoint="tls://localhost:$port?ca=$TMP/certs/ca.pem"
        echo "  the server is listening on $addr; the client trusts the demo CA"
        if reply=$(timeout 10 "$BIN/tls_client" "$endpoint" "hello over TLS" 2>"$TMP/client.err") \
            && [ "$reply" = "hello over TLS" ]; then
            echo "  tls_client: got the line back over $(cat "$TMP/client.err")"
        else
            fail "tls_client $endpoint answered: $reply $(cat "$TMP/client.err")"
        fi
        if timeout 10 "$BIN/tls_client" "tls://localhost:$port" "x" >/dev/null 2>"$TMP/client.err"; then
            fail "a client without the demo CA was not refused"
        else
            echo "  without the demo CA: $(cat "$TMP/client.err")"
        fi
        if stop_server; then
            echo "  SIGTERM: the TLS server stopped cleanly (exit status 0)"
        else
            fail "the TLS server did not stop cleanly on SIGTERM"
        fi
    fi
fi

if [ $FAILED -ne 0 ]; then
    echo "demo: FAILED"
    exit 1
fi
echo "demo: everything worked"
