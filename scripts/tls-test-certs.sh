#!/bin/sh
# Makes the certificates the TLS tests and demos use, with the OpenSSL CLI, in folder $1:
#   ca.pem/ca.key            a test CA (ECDSA P-256)
#   server.pem/server.key    ECDSA P-256, for localhost, 127.0.0.1 and ::1, PKCS#8 key
#   server-sec1.key          the same key as SEC1 ("EC PRIVATE KEY")
#   rsa.pem/rsa.key          RSA 2048 for the same names, PKCS#1 key ("RSA PRIVATE KEY")
#   wrongname.pem/.key       valid, but only for other.example
#   expired.pem/.key         for localhost, valid only in January 2020
#   untrusted.pem/.key       for localhost, from a CA nobody trusts (other-ca.pem)
#   client.pem/client.key    a client certificate (CN=oxs-client) from the test CA
#   garbage.pem              text that is not PEM
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }; }

ec_key() { q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
ext() {
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$1" > "$2"
}
sign() { # name key san ca cakey
  q openssl req -new -key "$2" -subj "/CN=$1" -out "$1.csr"
  ext "$3" "$1.ext"
  q openssl x509 -req -in "$1.csr" -CA "$4" -CAkey "$5" -CAcreateserial -days 30 -sha256 -extfile "$1.ext" -out "$1.pem"
}

ec_key ca.key
q openssl req -x509 -new -key ca.key -subj "/CN=oxsock test CA" -days 30 -sha256 -out ca.pem
ec_key other-ca.key
q openssl req -x509 -new -key other-ca.key -subj "/CN=untrusted test CA" -days 30 -sha256 -out other-ca.pem

SAN='DNS:localhost,IP:127.0.0.1,IP:::1'
ec_key server.key
sign server server.key "$SAN" ca.pem ca.key
q openssl ec -in server.key -out server-sec1.key
q openssl genrsa -traditional -out rsa.key 2048
sign rsa rsa.key "$SAN" ca.pem ca.key
ec_key wrongname.key
sign wrongname wrongname.key 'DNS:other.example' ca.pem ca.key
ec_key untrusted.key
sign untrusted untrusted.key "$SAN" other-ca.pem other-ca.key
ec_key client.key
sign client client.key 'DNS:oxs-client' ca.pem ca.key

# Expired: `openssl ca` takes explicit start and end dates.
ec_key expired.key
q openssl req -new -key expired.key -subj "/CN=expired" -out expired.csr
ext "$SAN" expired.ext
: > index.txt
echo 01 > serial
cat > ca.cnf <<CNF
[ ca ]
default_ca = d
[ d ]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = p
[ p ]
commonName = supplied
CNF
q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
  -startdate 20200101000000Z -enddate 20200201000000Z -extfile expired.ext -notext
echo "this is not PEM at all" > garbage.pem
grep -q "BEGIN EC PRIVATE KEY" server-sec1.key
grep -q "BEGIN RSA PRIVATE KEY" rsa.key
grep -q "BEGIN PRIVATE KEY" server.key
