#!/bin/sh
# Make the demo LwM2M bootstrap-server certificate (EC P-256, self-signed).
#
#   kea-config/certs/make-demo-cert.sh [OUTDIR]
#
# Writes OUTDIR/bs.pem (the certificate, committed to git and referenced by
# kea-config/lwm2m-store.json) and OUTDIR/bs.key (its private key, which is
# ignored by git and never leaves this machine).  OUTDIR defaults to the
# directory of this script.  An existing key is reused, so re-running only
# re-issues the certificate; delete bs.key to get a fresh key pair.
#
# This is a demo identity: a real deployment puts the certificate of its own
# LwM2M bootstrap server (as PEM) in the store instead.
set -eu

outdir=${1:-$(dirname "$0")}
key="$outdir/bs.key"
cert="$outdir/bs.pem"

if [ ! -f "$key" ]; then
    (umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out "$key")
fi

# 9125 days = 25 years: the committed certificate should outlive the repo.
openssl req -new -x509 -sha256 -key "$key" -out "$cert" -days 9125 \
    -subj "/O=Example LwM2M Demo/OU=Bootstrap/CN=bs.example.com" \
    -addext "subjectAltName=DNS:bs.example.com" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,digitalSignature" \
    -addext "extendedKeyUsage=serverAuth"

echo "certificate: $cert"
openssl x509 -in "$cert" -noout -subject -enddate \
    -fingerprint -sha256
printf 'DER size:    %s bytes\n' \
    "$(openssl x509 -in "$cert" -outform DER | wc -c)"
