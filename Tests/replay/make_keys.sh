#!/bin/sh
# Make the test raw public keys (server-public-key, RFC 7250) in
# Tests/replay/data/ (private keys are thrown away).
#
#   rpk-p256.pem        EC P-256 SubjectPublicKeyInfo, PEM: 91 octets DER
#   rpk-p256.der        the same key, DER (the store takes DER too)
#   rpk-p256-compressed.der  the same key with its point compressed (RFC 5480): 59 octets
#   rpk-p384.pem        EC P-384, PEM: 120 octets DER
#   rpk-ed25519.pem     Ed25519 (RFC 8410), PEM: 44 octets DER
#   rpk-rsa2048.pem     RSA-2048, PEM: 294 octets DER; refused (not what RPK devices use)
#
# Private keys (refused too) are made by the tests themselves, never committed.
# make_certs.sh runs this; re-running replaces them all; commit the results.
set -eu
out=$(cd "$(dirname "$0")" && pwd)/data
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/p256.pem" 2>/dev/null
openssl pkey -in "$tmp/p256.pem" -pubout -out "$out/rpk-p256.pem"
openssl pkey -in "$tmp/p256.pem" -pubout -outform DER -out "$out/rpk-p256.der"
openssl ec -in "$tmp/p256.pem" -pubout -conv_form compressed -outform DER -out "$out/rpk-p256-compressed.der" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$tmp/p384.pem" 2>/dev/null
openssl pkey -in "$tmp/p384.pem" -pubout -out "$out/rpk-p384.pem"
openssl genpkey -algorithm ED25519 -out "$tmp/ed25519.pem"
openssl pkey -in "$tmp/ed25519.pem" -pubout -out "$out/rpk-ed25519.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.pem" 2>/dev/null
openssl pkey -in "$tmp/rsa.pem" -pubout -out "$out/rpk-rsa2048.pem"

for f in rpk-p256.pem rpk-p384.pem rpk-ed25519.pem rpk-rsa2048.pem; do
    printf '%s: %s bytes DER\n' "$f" "$(openssl pkey -pubin -in "$out/$f" -outform DER | wc -c)"
done
printf 'rpk-p256-compressed.der: %s bytes DER\n' "$(wc -c < "$out/rpk-p256-compressed.der")"
