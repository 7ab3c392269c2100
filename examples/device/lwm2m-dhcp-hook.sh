#!/bin/sh
# lwm2m-dhcp-hook.sh -- a DHCP client hook that bootstraps an LwM2M device
# with the two options of draft-ietf-dhc-dhcpv6-lwm2m-bootstrap-options:
# the bootstrap-server URI, and the server's certificate or raw public key,
# which becomes the only identity the device trusts for that server.
#
# Run it as ISC dhclient's script (dhclient -sf) or dhcpcd's (dhcpcd
# --script), or call it -- as a command: it ends with `exit` -- from a file
# that the system's scripts source, which keeps their own work:
#   /etc/dhcp/dhclient-exit-hooks.d/lwm2m   (Debian's dhclient-script)
#   /lib/dhcpcd/dhcpcd-hooks/90-lwm2m       (dhcpcd-run-hooks)
# holding a line such as
#   LWM2M_ENDPOINT=urn:dev:mac:0024befffe804ff1 /usr/local/sbin/lwm2m-dhcp-hook.sh
# The options must be declared as in docs/clients.md:
#
#   dhclient.conf (DHCPv4; DHCPv6: dhcp6.* names, codes 200/201)
#     option lwm2m-bootstrap-uri code 224 = text;
#     option lwm2m-server-certificate code 225 = array of unsigned integer 8;
#     also request lwm2m-bootstrap-uri, lwm2m-server-certificate;
#   dhcpcd.conf (DHCPv4; DHCPv6: define6 200/201, dhcp6_* names)
#     define 224 binhex lwm2m_uri
#     define 225 array byte lwm2m_cert
#     option lwm2m_uri, lwm2m_cert
#
# On a lease with both options (reason BOUND, RENEW, REBIND, REBOOT, INFORM,
# their DHCPv6 forms ...6) it writes, in $LWM2M_STATE_DIR,
#   bootstrap-uri    the URI, as text;
#   server-identity  the certificate option's value as received: encoding
#                    octet (4: X.509 DER certificate, 15: DER
#                    SubjectPublicKeyInfo) and the bytes;
# then runs lwm2m-bootstrap-device (lwm2m-bootstrap-device.c) on them and
# writes its one-line verdict to last-bootstrap (and to standard output).
# A production device would bootstrap only when it has no LwM2M server yet,
# and keep the trust anchor in its Security object; this one does it on
# every lease, which shows a rotated certificate arriving.
#
# Settings (environment; dhclient and dhcpcd pass their script a fresh one,
# so set them in the calling line or in a wrapper that execs this file):
#   LWM2M_STATE_DIR  where the files go (/run/lwm2m-device)
#   LWM2M_ENDPOINT   the LwM2M endpoint client name (this host's name)
#   LWM2M_DEVICE     the device program (lwm2m-bootstrap-device on PATH)
#   LWM2M_TIMEOUT    seconds for the handshake and the answer (10)
# Always exits 0: the DHCP client goes on whatever the bootstrap does.

case "$reason" in
    BOUND|RENEW|REBIND|REBOOT|INFORM|BOUND6|RENEW6|REBIND6|REBOOT6|INFORM6) ;;
    *) exit 0 ;;
esac
state=${LWM2M_STATE_DIR:-/run/lwm2m-device}
endpoint=${LWM2M_ENDPOINT:-$(uname -n)}
device=${LWM2M_DEVICE:-lwm2m-bootstrap-device}

# "4 48 130 ..." (dhclient array of unsigned integer 8, dhcpcd array byte)
# and "636f6170..." (dhcpcd binhex) to bytes, via printf's \0ooo escapes.
decimals_to_bytes() {
    printf '%b' "$(printf '%s' "$1" | awk '{ for (i = 1; i <= NF; i++) printf "\\0%o", $i }')"
}
hex_to_bytes() {
    printf '%b' "$(printf '%s' "$1" | awk '{ s = tolower($0); gsub(/[^0-9a-f]/, "", s)
        for (i = 1; i < length(s); i += 2)
            printf "\\0%o", (index("0123456789abcdef", substr(s, i, 1)) - 1) * 16 \
                            + index("0123456789abcdef", substr(s, i + 1, 1)) - 1 }')"
}
# dhclient `text`: undo its escapes (\ooo octal, \c for a quoted character).
dhclient_text() {
    printf '%b' "$(printf '%s' "$1" | sed -e 's/\\\([0-7][0-7][0-7]\)/\\0\1/g' -e 's/\\\([^0]\)/\1/g')"
}

umask 077
mkdir -p "$state" || exit 0
if [ -n "${new_lwm2m_bootstrap_uri-}${new_dhcp6_lwm2m_bootstrap_uri-}" ]; then      # dhclient
    dhclient_text "${new_lwm2m_bootstrap_uri:-$new_dhcp6_lwm2m_bootstrap_uri}" > "$state/bootstrap-uri"
    identity=${new_lwm2m_server_certificate:-${new_dhcp6_lwm2m_server_certificate-}}
elif [ -n "${new_lwm2m_uri-}${new_dhcp6_lwm2m_uri-}" ]; then                          # dhcpcd
    hex_to_bytes "${new_lwm2m_uri:-$new_dhcp6_lwm2m_uri}" > "$state/bootstrap-uri"
    identity=${new_lwm2m_cert:-${new_dhcp6_lwm2m_cert-}}
else
    exit 0                      # this lease carries no LwM2M bootstrap server
fi
if [ -z "$identity" ]; then
    echo "no server certificate or raw public key in the lease: not bootstrapping" \
        | tee "$state/last-bootstrap"
    exit 0
fi
decimals_to_bytes "$identity" > "$state/server-identity"

"$device" -t "${LWM2M_TIMEOUT:-10}" -f "$state/server-identity" -e "$endpoint" \
    "$(cat "$state/bootstrap-uri")" > "$state/.last-bootstrap" 2> "$state/last-bootstrap.log"
echo "exit status $?" >> "$state/last-bootstrap.log"
mv "$state/.last-bootstrap" "$state/last-bootstrap"
cat "$state/last-bootstrap"
exit 0
