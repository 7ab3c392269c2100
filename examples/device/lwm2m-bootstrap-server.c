/*
 * lwm2m-bootstrap-server -- the smallest LwM2M bootstrap server the device
 * example can talk to: CoAP over DTLS, answering the Bootstrap-Request.
 *
 *   lwm2m-bootstrap-server [-v] [-p PORT] -A ADDRESS [-A ADDRESS ...]
 *                          -k PRIVATE_KEY.pem (-c CERTIFICATE.pem | -P PUBLIC_KEY.pem)
 *
 * -A ADDRESS  listen on this IPv4 or IPv6 address (repeatable);
 * -p PORT     UDP port (5684, the coaps default);
 * -k FILE     the server's private key (PEM);
 * -c FILE     its X.509 certificate (PEM): the server presents it in the
 *             handshake (what the DHCP option carries with encoding 4);
 * -P FILE     or its public key (PEM "PUBLIC KEY"): the server presents it
 *             as a raw public key, RFC 7250 (encoding 15 in the option);
 * -v          libcoap's debug log on standard error.
 *
 * It answers POST /bs?ep=NAME (LwM2M Bootstrap-Request) with 2.04 Changed
 * and prints "Bootstrap-Request from NAME" on standard output; a request
 * without ep= gets 4.00 Bad Request.  It asks clients for no credentials.
 * It prints "listening" once its endpoints are open and runs until SIGTERM
 * or SIGINT.  A real bootstrap server would then write the client's
 * Security and Server objects and send Bootstrap-Finish; this one stops at
 * the answer, which is all the device example checks.
 *
 * Why not coap-server (libcoap3-bin): it answers the first POST to a new
 * path with 2.01 Created (it creates a resource) and only later ones with
 * 2.04, where LwM2M expects 2.04 Changed every time.
 *
 *   cc -o lwm2m-bootstrap-server lwm2m-bootstrap-server.c \
 *       $(pkg-config --cflags --libs libcoap-3-gnutls)
 */

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coap3/coap.h>

#define MAX_ADDRESSES 8
#define MAX_PEM (64 * 1024)

static volatile sig_atomic_t stopping = 0;

static void on_signal(int signal_number)
{
    (void)signal_number;
    stopping = 1;
}

/* The ep= value of the request's Uri-Query options, or NULL. */
static const uint8_t *endpoint_name(const coap_pdu_t *request, size_t *length)
{
    coap_opt_iterator_t options;
    coap_opt_t *option;
    coap_option_iterator_init(request, &options, COAP_OPT_ALL);
    while ((option = coap_option_next(&options)) != NULL) {
        if (options.number != COAP_OPTION_URI_QUERY)
            continue;
        const uint8_t *value = coap_opt_value(option);
        size_t value_length = coap_opt_length(option);
        if (value_length > 3 && memcmp(value, "ep=", 3) == 0) {
            *length = value_length - 3;
            return value + 3;
        }
    }
    return NULL;
}

static void on_bootstrap_request(coap_resource_t *resource, coap_session_t *session,
                                 const coap_pdu_t *request, const coap_string_t *query,
                                 coap_pdu_t *response)
{
    (void)resource;
    (void)query;
    size_t length = 0;
    const uint8_t *name = endpoint_name(request, &length);
    char peer[INET6_ADDRSTRLEN + 16] = "";
    coap_print_addr(coap_session_get_addr_remote(session), (uint8_t *)peer, sizeof peer - 1);
    if (name == NULL) {
        printf("Bootstrap-Request without ep= from %s: 4.00\n", peer);
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST);
    } else {
        printf("Bootstrap-Request from %.*s (%s): 2.04\n", (int)length, (const char *)name, peer);
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_CHANGED);
    }
    fflush(stdout);
}

static uint8_t *read_pem(const char *path, size_t *length)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "lwm2m-bootstrap-server: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    uint8_t *data = calloc(1, MAX_PEM + 1);
    size_t n = data ? fread(data, 1, MAX_PEM, file) : 0;
    fclose(file);
    if (n == 0 || n == MAX_PEM) {
        fprintf(stderr, "lwm2m-bootstrap-server: %s: empty or too large\n", path);
        free(data);
        return NULL;
    }
    *length = n + 1;   /* libcoap takes PEM buffers NUL-terminated */
    return data;
}

static int usage(void)
{
    fprintf(stderr, "usage: lwm2m-bootstrap-server [-v] [-p PORT] -A ADDRESS [-A ADDRESS ...] "
                    "-k KEY.pem (-c CERTIFICATE.pem | -P PUBLIC_KEY.pem)\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *addresses[MAX_ADDRESSES];
    int address_count = 0, verbose = 0, option;
    const char *key = NULL, *certificate = NULL, *public_key = NULL;
    unsigned long port = 5684;

    while ((option = getopt(argc, argv, "A:p:k:c:P:v")) != -1) {
        switch (option) {
        case 'A':
            if (address_count == MAX_ADDRESSES)
                return usage();
            addresses[address_count++] = optarg;
            break;
        case 'p': port = strtoul(optarg, NULL, 10); break;
        case 'k': key = optarg; break;
        case 'c': certificate = optarg; break;
        case 'P': public_key = optarg; break;
        case 'v': verbose = 1; break;
        default: return usage();
        }
    }
    if (optind != argc || address_count == 0 || key == NULL || port == 0 || port > 65535 ||
        (certificate == NULL) == (public_key == NULL))
        return usage();

    coap_startup();
    coap_set_log_level(verbose ? LOG_DEBUG : LOG_WARNING);
    coap_context_t *context = coap_new_context(NULL);
    if (context == NULL || !coap_dtls_is_supported()) {
        fprintf(stderr, "lwm2m-bootstrap-server: no DTLS in this libcoap\n");
        return 1;
    }

    /* The server's identity; clients are asked for none. */
    coap_dtls_pki_t pki;
    memset(&pki, 0, sizeof pki);
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.verify_peer_cert = 0;
    size_t key_length = 0, public_length = 0;
    uint8_t *key_pem = NULL, *public_pem = NULL;
    if (certificate != NULL) {
        pki.pki_key.key_type = COAP_PKI_KEY_PEM;
        pki.pki_key.key.pem.public_cert = certificate;
        pki.pki_key.key.pem.private_key = key;
    } else {
        /* Raw public keys come as PEM buffers (libcoap refuses PEM files). */
        key_pem = read_pem(key, &key_length);
        public_pem = read_pem(public_key, &public_length);
        if (key_pem == NULL || public_pem == NULL)
            return 1;
        pki.is_rpk_not_cert = 1;
        pki.pki_key.key_type = COAP_PKI_KEY_PEM_BUF;
        pki.pki_key.key.pem_buf.public_cert = public_pem;
        pki.pki_key.key.pem_buf.public_cert_len = public_length;
        pki.pki_key.key.pem_buf.private_key = key_pem;
        pki.pki_key.key.pem_buf.private_key_len = key_length;
    }
    if (!coap_context_set_pki(context, &pki)) {
        fprintf(stderr, "lwm2m-bootstrap-server: libcoap refused the key or certificate\n");
        return 1;
    }

    for (int i = 0; i < address_count; i++) {
        coap_address_t listen;
        coap_address_init(&listen);
        if (inet_pton(AF_INET6, addresses[i], &listen.addr.sin6.sin6_addr) == 1) {
            listen.addr.sin6.sin6_family = AF_INET6;
            listen.addr.sin6.sin6_port = htons((uint16_t)port);
            listen.size = sizeof listen.addr.sin6;
        } else if (inet_pton(AF_INET, addresses[i], &listen.addr.sin.sin_addr) == 1) {
            listen.addr.sin.sin_family = AF_INET;
            listen.addr.sin.sin_port = htons((uint16_t)port);
            listen.size = sizeof listen.addr.sin;
        } else {
            fprintf(stderr, "lwm2m-bootstrap-server: %s is not an IP address\n", addresses[i]);
            return 2;
        }
        if (coap_new_endpoint(context, &listen, COAP_PROTO_DTLS) == NULL) {
            fprintf(stderr, "lwm2m-bootstrap-server: cannot listen on %s port %lu\n",
                    addresses[i], port);
            return 1;
        }
    }

    coap_resource_t *bootstrap = coap_resource_init(coap_make_str_const("bs"), 0);
    coap_register_handler(bootstrap, COAP_REQUEST_POST, on_bootstrap_request);
    coap_add_resource(context, bootstrap);

    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("listening: coaps port %lu, %s\n", port,
           certificate != NULL ? "X.509 certificate" : "raw public key");
    fflush(stdout);
    while (!stopping) {
        if (coap_io_process(context, 250) < 0 && errno != EINTR)
            break;
    }
    coap_free_context(context);
    coap_cleanup();
    free(key_pem);
    free(public_pem);
    return 0;
}
