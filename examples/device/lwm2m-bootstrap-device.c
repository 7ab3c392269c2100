/*
 * lwm2m-bootstrap-device -- an LwM2M device's first contact with its
 * bootstrap server, trusting only what DHCP delivered.
 *
 *   lwm2m-bootstrap-device [-t SECONDS] [-v] (-f FILE | -x HEX) -e ENDPOINT URI
 *
 * URI      the bootstrap-server URI of the DHCP option (coaps://HOST:PORT,
 *          HOST a name, an IPv4 address or an [IPv6] address).
 * -f FILE  the server-certificate option's value as received: a file holding
 *          the encoding octet and the bytes that follow it;
 * -x HEX   the same value as hexadecimal (colons and spaces are ignored).
 *          Encoding octet 4 (RFC 7296 "X.509 Certificate - Signature"): the
 *          bytes are the bootstrap server's DER certificate.  Encoding 15
 *          (RFC 7670 "Raw Public Key"): they are its DER
 *          SubjectPublicKeyInfo.
 * -e ENDPOINT  the device's LwM2M endpoint client name.
 * -t SECONDS   how long to wait for the handshake and the answer (10).
 * -v       libcoap's debug log on standard error.
 *
 * It opens a DTLS session to the URI's address and accepts the server only
 * when the server proves possession of exactly the delivered identity: its
 * leaf certificate, as DER, equals the delivered certificate (encoding 4),
 * or its raw public key, as DER SubjectPublicKeyInfo, equals the delivered
 * one (encoding 15).  This is how an LwM2M client pins the "Server Public
 * Key" resource of its Security object (certificate usage 3, "domain-issued
 * certificate": the end-entity certificate itself is the trust anchor; no
 * CA, name or validity period takes part).  Then it sends the LwM2M
 * Bootstrap-Request, a confirmable POST /bs?ep=ENDPOINT, and reports the
 * answer in one line on standard output:
 *
 *   the device bootstrapped: DTLS handshake with <certificate subject and
 *       SHA-256 | raw public key SHA-256>, 2.04 Changed          exit 0
 *   refused: server identity does not match what DHCP delivered  exit 1
 *       (what was presented and what was expected follow on standard error)
 *   no DTLS session with URI (...): ... never compared ...        exit 3
 *       (nothing listening, handshake failure before the identity)
 *   timeout: no answer from URI in SECONDS s                     exit 3
 *   the server answered 4.04 Not Found, not 2.04 Changed         exit 4
 *   (usage, unreadable or unsupported option value, no DTLS)     exit 2
 *
 * Why not the coap-client command: it accepts any self-signed server
 * certificate (also with -R) and has no way to name the expected raw
 * public key.  The pinning below is the validation callback of libcoap's
 * PKI setup (coap_dtls_pki_t.validate_cn_call_back), which receives the
 * DER of the server's leaf certificate or of its raw public key.
 *
 * Built against libcoap 4.3 with its GnuTLS backend (Debian 12:
 * libcoap3-dev; raw public keys need GnuTLS):
 *
 *   cc -o lwm2m-bootstrap-device lwm2m-bootstrap-device.c \
 *       $(pkg-config --cflags --libs libcoap-3-gnutls gnutls)
 *
 * A real device would go on with the bootstrap (the server writes the
 * Security and Server objects, then Bootstrap-Finish); this program stops
 * at the answer to the request, which is where the server's identity has
 * been established.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <coap3/coap.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

enum { EXIT_BOOTSTRAPPED = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_NO_SESSION = 3,
       EXIT_UNEXPECTED_ANSWER = 4 };

/* RFC 7296 / RFC 7670 certificate encodings the option may carry. */
enum { ENCODING_X509 = 4, ENCODING_RAW_PUBLIC_KEY = 15 };

#define MAX_OPTION_VALUE 65536

/* Everything the callbacks share. */
struct device {
    const char *uri;
    int encoding;                 /* ENCODING_X509 or ENCODING_RAW_PUBLIC_KEY */
    const uint8_t *pinned;        /* the delivered certificate or SPKI, DER */
    size_t pinned_length;

    int identity_checked;         /* the callback saw the server's identity */
    int identity_matches;         /* ... and it was exactly the pinned one */
    char presented[1024];         /* what the server presented, for the report */

    int done;
    int status;                   /* exit status once done */
    char report[1400];            /* the one line on standard output */
};

static void set_result(struct device *d, int status, const char *format, ...)
{
    va_list args;
    if (d->done)
        return;
    va_start(args, format);
    vsnprintf(d->report, sizeof d->report, format, args);
    va_end(args);
    d->status = status;
    d->done = 1;
}

/* SHA-256 of `der` as "AB:CD:..." (95 characters + NUL). */
static void sha256_text(const uint8_t *der, size_t length, char out[96])
{
    uint8_t digest[32];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der, length, digest) != 0) {
        snprintf(out, 96, "(SHA-256 unavailable)");
        return;
    }
    for (int i = 0; i < 32; i++)
        snprintf(out + 3 * i, 96 - 3 * i, i < 31 ? "%02X:" : "%02X", digest[i]);
}

/* How to name an identity in the report: the certificate's subject and
 * SHA-256, or the raw public key's SHA-256. */
static void describe_identity(int encoding, const uint8_t *der, size_t length,
                              char *out, size_t size)
{
    char digest[96];
    sha256_text(der, length, digest);
    if (encoding == ENCODING_RAW_PUBLIC_KEY) {
        snprintf(out, size, "raw public key SHA-256 %s", digest);
        return;
    }
    gnutls_x509_crt_t certificate;
    gnutls_datum_t datum = { (unsigned char *)der, (unsigned int)length };
    gnutls_datum_t subject = { NULL, 0 };
    if (gnutls_x509_crt_init(&certificate) == 0) {
        if (gnutls_x509_crt_import(certificate, &datum, GNUTLS_X509_FMT_DER) == 0)
            gnutls_x509_crt_get_dn3(certificate, &subject, 0);
        gnutls_x509_crt_deinit(certificate);
    }
    snprintf(out, size, "%s (certificate SHA-256 %s)",
             subject.data ? (const char *)subject.data : "(unreadable subject)", digest);
    gnutls_free(subject.data);
}

/*
 * libcoap's validation callback: called during the handshake with the DER
 * of the certificate the server presented (depth 0 is the server's own,
 * leaf certificate; OpenSSL also calls it for the CA certificates above),
 * or with the DER SubjectPublicKeyInfo of its raw public key (cn is then
 * "RPK").  Returning 0 aborts the handshake.
 */
static int pin_server_identity(const char *cn, const uint8_t *der, size_t length,
                               coap_session_t *session, unsigned int depth,
                               int validated, void *arg)
{
    struct device *d = arg;
    (void)session;
    (void)validated;   /* trust comes from the exact match, not from any CA */
    if (depth > 0)
        return 1;      /* only the server's own certificate decides */

    /* The server's TLS certificate type says which it presented. */
    int presented_raw_key = cn != NULL && strcmp(cn, COAP_DTLS_RPK_CERT_CN) == 0;
    describe_identity(presented_raw_key ? ENCODING_RAW_PUBLIC_KEY : ENCODING_X509,
                      der, length, d->presented, sizeof d->presented);
    d->identity_checked = 1;
    d->identity_matches = length == d->pinned_length && memcmp(der, d->pinned, length) == 0;
    return d->identity_matches;
}

static void refuse_identity(struct device *d)
{
    char expected[1024];
    if (d->done)
        return;
    describe_identity(d->encoding, d->pinned, d->pinned_length, expected, sizeof expected);
    fprintf(stderr, "  the server presented: %s\n  DHCP delivered:       %s\n",
            d->presented, expected);
    set_result(d, EXIT_REFUSED, "refused: server identity does not match what DHCP delivered");
}

static void handshake_failed(struct device *d, const char *how)
{
    if (d->identity_checked && !d->identity_matches)
        refuse_identity(d);
    else
        set_result(d, EXIT_NO_SESSION,
                   "no DTLS session with %s (%s): the server's identity was never compared "
                   "with what DHCP delivered", d->uri, how);
}

static int on_event(coap_session_t *session, const coap_event_t event)
{
    struct device *d = coap_session_get_app_data(session);
    if (d == NULL)
        return 0;
    switch (event) {
    case COAP_EVENT_DTLS_CONNECTED:
        /* Never go on with a session whose identity was not pinned (for
         * example if the DTLS library skipped the callback); main() checks
         * again before it sends the request. */
        if (!d->identity_checked || !d->identity_matches)
            handshake_failed(d, "the server's identity was not checked");
        break;
    case COAP_EVENT_DTLS_CLOSED:
    case COAP_EVENT_DTLS_ERROR:
        handshake_failed(d, event == COAP_EVENT_DTLS_ERROR ? "DTLS error" : "session closed");
        break;
    default:
        break;
    }
    return 0;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
                    const coap_nack_reason_t reason, const coap_mid_t mid)
{
    struct device *d = coap_session_get_app_data(session);
    (void)sent;
    (void)mid;
    if (d == NULL)
        return;
    switch (reason) {
    case COAP_NACK_TLS_FAILED:
        handshake_failed(d, "DTLS failure");
        break;
    case COAP_NACK_TOO_MANY_RETRIES:
        set_result(d, EXIT_NO_SESSION, "timeout: %s did not acknowledge the Bootstrap-Request",
                   d->uri);
        break;
    case COAP_NACK_RST:
        set_result(d, EXIT_UNEXPECTED_ANSWER, "the server reset the Bootstrap-Request");
        break;
    default:
        set_result(d, EXIT_NO_SESSION, "the Bootstrap-Request could not be delivered to %s",
                   d->uri);
        break;
    }
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    struct device *d = coap_session_get_app_data(session);
    (void)sent;
    (void)mid;
    if (d == NULL)
        return COAP_RESPONSE_OK;
    coap_pdu_code_t code = coap_pdu_get_code(received);
    const char *phrase = coap_response_phrase(code);
    char answer[64];
    snprintf(answer, sizeof answer, "%d.%02d %s", code >> 5, code & 0x1f, phrase ? phrase : "");
    if (code == COAP_RESPONSE_CODE_CHANGED)
        set_result(d, EXIT_BOOTSTRAPPED, "the device bootstrapped: DTLS handshake with %s, %s",
                   d->presented, answer);
    else
        set_result(d, EXIT_UNEXPECTED_ANSWER,
                   "the server answered %s, not 2.04 Changed (DTLS handshake with %s)",
                   answer, d->presented);
    return COAP_RESPONSE_OK;
}

/* -x HEX: the option value as hexadecimal; colons and white space ignored. */
static size_t parse_hex(const char *text, uint8_t *out, size_t size)
{
    size_t n = 0;
    int high = -1;
    for (; *text; text++) {
        if (*text == ':' || isspace((unsigned char)*text))
            continue;
        if (!isxdigit((unsigned char)*text))
            return 0;
        int nibble = isdigit((unsigned char)*text) ? *text - '0'
                                                   : tolower((unsigned char)*text) - 'a' + 10;
        if (high < 0) {
            high = nibble;
        } else {
            if (n == size)
                return 0;
            out[n++] = (uint8_t)(high << 4 | nibble);
            high = -1;
        }
    }
    return high < 0 ? n : 0;
}

static size_t read_file(const char *path, uint8_t *out, size_t size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "lwm2m-bootstrap-device: %s: %s\n", path, strerror(errno));
        return 0;
    }
    size_t n = fread(out, 1, size, file);
    int too_big = n == size && fgetc(file) != EOF;
    fclose(file);
    return too_big ? 0 : n;
}

/* LwM2M Bootstrap-Request: confirmable POST /bs?ep=ENDPOINT. */
static int send_bootstrap_request(coap_session_t *session, const char *endpoint)
{
    char query[300];
    int query_length = snprintf(query, sizeof query, "ep=%s", endpoint);
    if (query_length < 0 || query_length >= (int)sizeof query)
        return 0;
    coap_pdu_t *request = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, session);
    if (request == NULL)
        return 0;
    uint8_t token[8];
    size_t token_length;
    coap_session_new_token(session, &token_length, token);
    if (!coap_add_token(request, token_length, token) ||
        !coap_add_option(request, COAP_OPTION_URI_PATH, 2, (const uint8_t *)"bs") ||
        !coap_add_option(request, COAP_OPTION_URI_QUERY, (size_t)query_length,
                         (const uint8_t *)query)) {
        coap_delete_pdu(request);
        return 0;
    }
    return coap_send(session, request) != COAP_INVALID_MID;
}

static int usage(void)
{
    fprintf(stderr, "usage: lwm2m-bootstrap-device [-t SECONDS] [-v] (-f FILE | -x HEX) "
                    "-e ENDPOINT coaps://HOST:PORT\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    static uint8_t value[MAX_OPTION_VALUE];
    size_t value_length = 0;
    const char *endpoint = NULL;
    int timeout_seconds = 10, verbose = 0, option;
    struct device d = { 0 };

    while ((option = getopt(argc, argv, "f:x:e:t:v")) != -1) {
        switch (option) {
        case 'f': value_length = read_file(optarg, value, sizeof value); break;
        case 'x': value_length = parse_hex(optarg, value, sizeof value); break;
        case 'e': endpoint = optarg; break;
        case 't': timeout_seconds = atoi(optarg); break;
        case 'v': verbose = 1; break;
        default: return usage();
        }
    }
    if (optind != argc - 1 || endpoint == NULL || *endpoint == '\0' || timeout_seconds <= 0)
        return usage();
    d.uri = argv[optind];
    if (value_length < 2) {
        fprintf(stderr, "lwm2m-bootstrap-device: no server certificate option value "
                        "(an encoding octet and at least one byte)\n");
        return EXIT_USAGE;
    }
    d.encoding = value[0];
    d.pinned = value + 1;
    d.pinned_length = value_length - 1;
    if (d.encoding != ENCODING_X509 && d.encoding != ENCODING_RAW_PUBLIC_KEY) {
        fprintf(stderr, "lwm2m-bootstrap-device: certificate encoding %d is not supported "
                        "(4: X.509 certificate, 15: raw public key)\n", d.encoding);
        return EXIT_USAGE;
    }

    coap_startup();
    coap_set_log_level(verbose ? LOG_DEBUG : LOG_EMERG);
    if (!coap_dtls_is_supported()) {
        fprintf(stderr, "lwm2m-bootstrap-device: this libcoap has no DTLS\n");
        return EXIT_USAGE;
    }
    if (d.encoding == ENCODING_RAW_PUBLIC_KEY &&
        coap_get_tls_library_version()->type != COAP_TLS_LIBRARY_GNUTLS) {
        fprintf(stderr, "lwm2m-bootstrap-device: raw public keys need libcoap's GnuTLS backend\n");
        return EXIT_USAGE;
    }

    /* coaps://HOST:PORT: libcoap's parser takes the brackets off IPv6. */
    coap_uri_t uri;
    if (coap_split_uri((const uint8_t *)d.uri, strlen(d.uri), &uri) < 0 ||
        uri.scheme != COAP_URI_SCHEME_COAPS) {
        fprintf(stderr, "lwm2m-bootstrap-device: %s is not a coaps:// URI "
                        "(CoAP over DTLS)\n", d.uri);
        return EXIT_USAGE;
    }
    char host[256], port[8];
    snprintf(host, sizeof host, "%.*s", (int)uri.host.length, (const char *)uri.host.s);
    snprintf(port, sizeof port, "%u", uri.port);

    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
    struct addrinfo *found = NULL;
    int error = getaddrinfo(host, port, &hints, &found);
    if (error != 0) {
        printf("no DTLS session with %s: cannot resolve %s: %s\n", d.uri, host, gai_strerror(error));
        return EXIT_NO_SESSION;
    }
    coap_address_t server;
    coap_address_init(&server);
    server.size = found->ai_addrlen;
    memcpy(&server.addr, found->ai_addr, found->ai_addrlen);
    uint8_t literal[16];
    int host_is_address = inet_pton(AF_INET, host, literal) == 1 ||
                          inet_pton(AF_INET6, host, literal) == 1;
    freeaddrinfo(found);

    coap_context_t *context = coap_new_context(NULL);
    if (context == NULL)
        return EXIT_USAGE;
    coap_register_event_handler(context, on_event);
    coap_register_nack_handler(context, on_nack);
    coap_register_response_handler(context, on_response);

    /*
     * No CA takes part: verify_peer_cert = 0 lets any certificate through
     * the DTLS library's own checks, and the callback then accepts only
     * the exact delivered one (a server always proves it holds the private
     * key of what it presents).  The device presents no credentials of its
     * own to this server.
     */
    coap_dtls_pki_t pki;
    memset(&pki, 0, sizeof pki);
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.verify_peer_cert = 0;
    pki.is_rpk_not_cert = d.encoding == ENCODING_RAW_PUBLIC_KEY;
    pki.validate_cn_call_back = pin_server_identity;
    pki.cn_call_back_arg = &d;
    pki.client_sni = host_is_address ? NULL : host;   /* SNI carries names only */
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;          /* with no files: none */

    coap_session_t *session = coap_new_client_session_pki(context, NULL, &server,
                                                          COAP_PROTO_DTLS, &pki);
    if (session == NULL) {
        printf("no DTLS session with %s: libcoap could not open one\n", d.uri);
        coap_free_context(context);
        return EXIT_NO_SESSION;
    }
    coap_session_set_app_data(session, &d);

    /* The handshake runs first; the request leaves only once the session
     * is established with the pinned identity. */
    unsigned int waited_ms = 0, limit_ms = (unsigned int)timeout_seconds * 1000;
    int sent = 0;
    while (!d.done && waited_ms < limit_ms) {
        if (!sent && coap_session_get_state(session) == COAP_SESSION_STATE_ESTABLISHED) {
            if (!d.identity_checked || !d.identity_matches) {
                handshake_failed(&d, "the server's identity was not checked");
                break;
            }
            if (!send_bootstrap_request(session, endpoint)) {
                set_result(&d, EXIT_USAGE, "cannot build the Bootstrap-Request");
                break;
            }
            sent = 1;
        }
        int spent = coap_io_process(context, 100);
        if (spent < 0)
            break;
        waited_ms += spent > 0 ? (unsigned int)spent : 1;
    }
    if (!d.done) {
        if (d.identity_checked && !d.identity_matches)
            refuse_identity(&d);
        else
            set_result(&d, EXIT_NO_SESSION, "timeout: no answer from %s in %d s", d.uri,
                       timeout_seconds);
    }
    printf("%s\n", d.report);
    fflush(stdout);

    coap_session_set_app_data(session, NULL);
    coap_session_release(session);
    coap_free_context(context);
    coap_cleanup();
    return d.status;
}
