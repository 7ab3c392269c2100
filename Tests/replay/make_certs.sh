#!/bin/sh
# Make the test certificates in Tests/replay/data/ (keys are thrown away).
#
#   small.pem             EC P-256, self-signed, v1 (no extensions): DER ~260
#                         bytes, so in DHCPv4 it is split in two options
#                         (255 + a few bytes) and does not fit a 576-byte reply
#                         next to the other options.
#   small-compressed.pem  the same key and names, with the public point in
#                         compressed form (RFC 5480 allows it): DER ~230 bytes,
#                         one DHCPv4 option, fits a 576-byte reply.
#   large.pem             RSA-2048, self-signed, usual v3 extensions: DER ~870
#                         bytes, four DHCPv4 options, never fits 576 bytes.
#   large.der             large.pem in DER form (the store must take DER too).
#   xlarge.pem            EC P-256 with a long subjectAltName list: DER ~1300
#                         bytes, too big for any DHCPv4 reply (limit <= 1500),
#                         fine in DHCPv6.
#
# Then the raw public keys (make_keys.sh). Re-running replaces them all; commit the results.
set -eu
out=$(cd "$(dirname "$0")" && pwd)/data
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=bs-b\n' > "$tmp/small.cnf"
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ec.pem"
openssl ec -in "$tmp/ec.pem" -conv_form compressed -out "$tmp/ecc.pem" 2>/dev/null
for variant in small:ec small-compressed:ecc; do
    openssl req -x509 -new -key "$tmp/${variant#*:}.pem" -config "$tmp/small.cnf" \
        -days 7300 -set_serial 1 -sha256 -out "$out/${variant%%:*}.pem"
done

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/rsa.pem" \
    -subj "/O=kea-lwm2m test/CN=bs-a.example.com" \
    -addext "subjectAltName=DNS:bs-a.example.com" \
    -days 7300 -sha256 -out "$out/large.pem" 2>/dev/null
openssl x509 -in "$out/large.pem" -outform DER -out "$out/large.der"

san=$(seq -f 'DNS:n%02g.bs-x.example.com' 1 45 | paste -sd, -)
openssl req -x509 -new -key "$tmp/ec.pem" -subj "/CN=bs-x.example.com" \
    -addext "subjectAltName=$san" -days 7300 -sha256 -out "$out/xlarge.pem"

for f in small.pem small-compressed.pem large.pem xlarge.pem; do
    printf '%s: %s bytes DER\n' "$f" "$(openssl x509 -in "$out/$f" -outform DER | wc -c)"
done

# The raw public keys.
sh "$(dirname "$0")/make_keys.sh"
