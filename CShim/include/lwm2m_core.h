/*
 * lwm2m_core.h — the one interface between the Kea shim (C++) and the
 * kea-lwm2m core (Swift).
 *
 * Data flows one way: the shim hands the core plain facts about the
 * configuration or about one DHCP exchange; the core answers with status
 * codes, text for the log and ready-to-send option bytes. The core never
 * calls back into the shim and never sees a Kea type.
 *
 * Every function is safe to call from any thread; none throws, none aborts.
 * Strings are UTF-8 and not necessarily NUL-terminated: they always travel
 * with their length.
 */
#ifndef LWM2M_CORE_H
#define LWM2M_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Room for one diagnostic: a few store errors, each naming file, entry, reason. */
#define LWM2M_TEXT_CAPACITY 4096

/* ------------------------------------------------------------------ */
/* Configuration (Kea's main thread: load(), unload())                 */
/* ------------------------------------------------------------------ */

/** What the shim knows at load() time. */
typedef struct lwm2m_config_input {
    /** 4 for kea-dhcp4, 6 for kea-dhcp6. */
    uint8_t family;
    /** The library's `parameters` map, serialized by Kea as JSON. */
    const char *parameters_json;
    size_t parameters_json_length;
    /** Option codes Kea already defines in this family's top-level space
        (standard, last-resort and the configuration's option-def entries). */
    const uint16_t *kea_defined_codes;
    size_t kea_defined_codes_count;
} lwm2m_config_input;

/** How a load ended. */
typedef enum lwm2m_load_status {
    /** Parameters valid, store loaded. */
    LWM2M_LOAD_OK = 0,
    /** Parameters valid, the store did not load: `text` says why. The core
        keeps serving the last good version of the same store file loaded by
        this process, if any (`kept_previous_store`), otherwise nothing.
        load() must still succeed. */
    LWM2M_LOAD_STORE_FAILED = 1,
    /** Parameters invalid: `text` says why; load() must fail. Nothing changed. */
    LWM2M_LOAD_BAD_PARAMETERS = 2,
} lwm2m_load_status;

typedef struct lwm2m_load_result {
    /** One of lwm2m_load_status. */
    int32_t status;
    /** Entries now served for this family. */
    uint32_t entry_count;
    /** Certificates now served for this family. */
    uint32_t certificate_count;
    /** 1 when a failed store left the previous one in service. */
    uint8_t kept_previous_store;
    /** DHCPv4: store entries (1-based, comma-separated) whose certificate
        cannot fit even a 1500-octet reply; empty when none. NUL-terminated. */
    char oversized_certificates[256];
    /** The store file's path as configured. NUL-terminated, truncated to fit. */
    char store_path[1024];
    /** Reason for a failure, or a one-line summary. NUL-terminated, truncated to fit. */
    char text[LWM2M_TEXT_CAPACITY];
    /** LWM2M_FACT_* bits: the facts the loaded store needs from every query.
        The shim reads only these; lwm2m_core_answer() says when the
        need changes. */
    uint32_t needed_facts;
} lwm2m_load_result;

/**
 * Validate the parameters, load the store, pre-encode every option and
 * publish the result in one atomic step. Called from the hook's load().
 */
void lwm2m_core_configure(const lwm2m_config_input *input, lwm2m_load_result *result);

/** Stop serving (the hook's unload()). Idempotent. The last good store is
    remembered so a following configure() can fall back to it. */
void lwm2m_core_unload(void);

/* ------------------------------------------------------------------ */
/* One exchange (packet threads; reads an immutable snapshot)          */
/* ------------------------------------------------------------------ */

/** A byte string borrowed from the packet for the duration of one call. */
typedef struct lwm2m_bytes {
    const uint8_t *data; /**< NULL when absent */
    size_t length;
} lwm2m_bytes;

/** Facts only some stores need (lwm2m_exchange.provided_facts, needed_facts). */
enum {
    /** hardware_type, hardware_address: the DHCPv4 query's chaddr. */
    LWM2M_FACT_HW_ADDRESS = 1u << 0,
    /** client_id: DHCPv4 option 61 value / DHCPv6 DUID (option 1 value). */
    LWM2M_FACT_CLIENT_ID = 1u << 1,
    /** client_classes: the query's Kea client classes. */
    LWM2M_FACT_CLIENT_CLASSES = 1u << 2,
    /** shared_network: the serving subnet's shared-network name. */
    LWM2M_FACT_SHARED_NETWORK = 1u << 3,
};

/** A subnet of Kea's configuration. */
typedef struct lwm2m_subnet {
    /** Kea's id of the subnet. */
    uint32_t id;
    /** The subnet's prefix: 4 (v4) or 16 (v6) bytes of address, network order. */
    uint8_t prefix[16];
    uint8_t prefix_length;
} lwm2m_subnet;

/** The facts of one query/response pair, read by the shim. */
typedef struct lwm2m_exchange {
    /** 4 or 6. */
    uint8_t family;
    /** DHCPv4 message type (option 53) or DHCPv6 msg-type of the client's message. */
    uint8_t query_type;
    /** The same for the server's reply. */
    uint8_t response_type;
    /** 1 when Kea selected a subnet for this query. */
    uint8_t has_subnet;
    /** The subnet Kea selected. */
    lwm2m_subnet subnet;
    /** All subnets of the selected subnet's shared network, the selected one
        included, in Kea's order; NULL/0 when it is in none. In a shared
        network Kea may lease from another subnet than the one it selected
        (when that one has no free address); the core then serves the entry
        of the subnet the leased address is from, as Kea's own option-data
        does. Read only for a subnet in a shared network. */
    const lwm2m_subnet *shared_network_subnets;
    size_t shared_network_subnet_count;
    /** 1 when `leased_address` holds the address the reply leases (DHCPv4
        yiaddr, DHCPv6 the first IA_NA address): read only with
        `shared_network_subnets`, and absent when the reply leases no address
        (INFORM, INFORMATION-REQUEST, prefix delegation only). */
    uint8_t has_leased_address;
    /** 4 (v4) or 16 (v6) bytes, network order. */
    uint8_t leased_address[16];
    /** Raw value of the PRL (option 55) or ORO (option 6); data NULL when absent. */
    lwm2m_bytes requested_options;
    /** Raw value of option 57 (DHCPv4 Maximum Message Size); data NULL when absent. */
    lwm2m_bytes max_message_size;
    /** Size of the reply on the wire as it stands, before our options: for
        DHCPv4 the whole DHCP message (header, cookie, options, END, the
        extra headers of split options); for DHCPv6 the message as the server
        sends it, Relay-reply layers included (Kea's Pkt6::len()). */
    size_t reply_size;
    /** Codes of the options the reply already carries at its top level
        (option-data, other hooks). An LwM2M option whose code is among them
        is neither added again nor counted as sent. NULL when not read. */
    const uint16_t *reply_codes;
    size_t reply_code_count;

    /* Facts read only when the store needs them (LWM2M_FACT_*). */
    /** LWM2M_FACT_* bits of the fields below that the shim filled in. */
    uint32_t provided_facts;
    /** DHCPv4 hardware type (htype) and address (chaddr, hlen octets). */
    uint8_t hardware_type;
    lwm2m_bytes hardware_address;
    /** DHCPv4: option 61 value; DHCPv6: the DUID (option 1 value). data NULL when absent. */
    lwm2m_bytes client_id;
    /** The query's client class names, each followed by one NUL. */
    lwm2m_bytes client_classes;
    /** The serving subnet's shared-network name (no NUL); data NULL when none. */
    lwm2m_bytes shared_network;
} lwm2m_exchange;

/** Where one option's bytes are in the output buffer. */
typedef struct lwm2m_option_span {
    uint16_t code;
    uint32_t offset;
    uint32_t length;
    /** Names these bytes within the snapshot answer->snapshot_serial: two
        answers with the same serial and key carry the same bytes, so the
        shim may reuse what it built from them. */
    uint32_t key;
} lwm2m_option_span;

/** What happened, for logs and statistics. */
enum {
    LWM2M_ANSWER_SENT_URI = 1u << 0,
    LWM2M_ANSWER_SENT_CERTIFICATE = 1u << 1,
    /** The certificate was asked for but left out: the reply would exceed the client's limit. */
    LWM2M_ANSWER_CERTIFICATE_TOO_BIG = 1u << 2,
    /** The URI was asked for but left out: the reply would exceed the client's limit. */
    LWM2M_ANSWER_URI_TOO_BIG = 1u << 3,
    /** No store entry applies to this exchange. */
    LWM2M_ANSWER_NO_ENTRY = 1u << 4,
    /** DHCPv4 remember-requests: the REQUEST did not ask, its DISCOVER did. */
    LWM2M_ANSWER_REMEMBERED = 1u << 5,
    /** The reply already carries an option with the URI's code: not added. */
    LWM2M_ANSWER_URI_ALREADY_PRESENT = 1u << 6,
    /** The reply already carries an option with the certificate's code: not added. */
    LWM2M_ANSWER_CERTIFICATE_ALREADY_PRESENT = 1u << 7,
};

/** entry_index / certificate_entry_index of the store's "default". */
#define LWM2M_ENTRY_DEFAULT (-2)
/** entry_index / certificate_entry_index when no entry gave the option. */
#define LWM2M_ENTRY_NONE (-1)

/** Options one answer carries at most: the URI and the certificate. */
#define LWM2M_ANSWER_MAX_OPTIONS 2

typedef struct lwm2m_answer {
    /** LWM2M_ANSWER_* bits. */
    uint32_t flags;
    /** Store entry that gave the URI (0-based index in the store),
        LWM2M_ENTRY_DEFAULT, or LWM2M_ENTRY_NONE. */
    int32_t entry_index;
    /** Store entry that gave the certificate (may be a more specific
        certificate-only entry than entry_index), LWM2M_ENTRY_DEFAULT, or
        LWM2M_ENTRY_NONE. */
    int32_t certificate_entry_index;
    /** The subnet whose entries applied: the selected one, or the subnet of
        its shared network the leased address is from; 0 when Kea selected
        none. */
    uint32_t subnet_id;
    /** DHCPv4: the client's limit that applied, in octets of IP datagram
        (as option 57 counts); DHCPv6: dhcpv6-max-reply-size; 0 when no
        limit applied. */
    uint32_t size_limit;
    /** Number of valid spans below (0 to LWM2M_ANSWER_MAX_OPTIONS). */
    uint32_t option_count;
    /** Each span is one complete option as it goes on the wire: for DHCPv4 one
        or more code/length/data instances (RFC 3396), for DHCPv6 one
        code/length/data option. The shim writes the bytes as they are. */
    lwm2m_option_span options[LWM2M_ANSWER_MAX_OPTIONS];
    /** When the buffer was too small: the capacity needed; nothing was written. */
    size_t bytes_needed;
    /** LWM2M_FACT_* bits the store in service needs from every query. The
        shim keeps them for the next query; when they include facts the
        exchange did not provide, the call returns LWM2M_ANSWER_STATUS_NEEDS_FACTS. */
    uint32_t needed_facts;
    /** The option codes of the snapshot in service (for the log). */
    uint16_t uri_code;
    uint16_t certificate_code;
    /** The snapshot that answered; distinct for every snapshot the process
        builds (see lwm2m_option_span.key). */
    uint64_t snapshot_serial;
} lwm2m_answer;

/** What lwm2m_core_answer() returns. */
typedef enum lwm2m_answer_status {
    /** Decided: `answer` says which options to add (possibly none). */
    LWM2M_ANSWER_STATUS_DONE = 0,
    /** `buffer_capacity` is too small: grow the buffer to
        answer->bytes_needed and call again. */
    LWM2M_ANSWER_STATUS_BUFFER_TOO_SMALL = 1,
    /** The store needs facts the exchange does not provide: fill in
        answer->needed_facts and call again. */
    LWM2M_ANSWER_STATUS_NEEDS_FACTS = 2,
} lwm2m_answer_status;

/**
 * Decide which LwM2M options go into this reply and copy their wire bytes
 * into `buffer`. Returns one of lwm2m_answer_status.
 */
int32_t lwm2m_core_answer(const lwm2m_exchange *exchange,
                          uint8_t *buffer, size_t buffer_capacity,
                          lwm2m_answer *answer);

/* ------------------------------------------------------------------ */
/* Operations (Kea's main thread: the watch timer, commands)          */
/* ------------------------------------------------------------------ */

/** The watch timer's period in milliseconds from the `watch-interval`
    parameter of the last configure(); 0 when hot reload is off or the hook
    is not loaded. */
uint32_t lwm2m_core_watch_interval_ms(void);

/** What lwm2m_core_poll() returns. */
typedef enum lwm2m_poll_status {
    /** A reload failed: the last good snapshot stays in service. */
    LWM2M_POLL_RELOAD_FAILED = -1,
    /** Nothing changed (or hot reload is off). */
    LWM2M_POLL_UNCHANGED = 0,
    /** A new store is served. */
    LWM2M_POLL_RELOADED = 1,
    /** A changed store is being read on a thread of the core's own: call
        again soon. */
    LWM2M_POLL_LOADING = 2,
} lwm2m_poll_status;

/** One tick of the watch timer: when the store file or a certificate file it
    names changed (device, inode, size, mtime, ctime) since the last attempt,
    start reading it on a thread of the core's own; once that is done,
    publish it. Returns one of lwm2m_poll_status. Re-checks certificate
    expiry once a day. What happened is queued as events. */
int32_t lwm2m_core_poll(void);

/** Event kinds; each maps to one message id (docs/messages.md). */
enum {
    /** LWM2M_RELOADED (INFO): store path, summary. */
    LWM2M_EVENT_RELOADED = 1,
    /** LWM2M_RELOAD_FAILED (ERROR): store path, what is still served, reason. */
    LWM2M_EVENT_RELOAD_FAILED = 2,
    /** LWM2M_CERTIFICATE_EXPIRES_SOON (WARN): file, subject, notAfter, days left. */
    LWM2M_EVENT_CERTIFICATE_EXPIRES_SOON = 3,
    /** LWM2M_CERTIFICATE_EXPIRED (ERROR): file, subject, notAfter. */
    LWM2M_EVENT_CERTIFICATE_EXPIRED = 4,
    /** LWM2M_CERTIFICATE_NEVER_FITS (WARN): store path, entries. */
    LWM2M_EVENT_CERTIFICATE_NEVER_FITS = 5,
    /** LWM2M_DB_STORE_LOADED (INFO): database, revision, summary. */
    LWM2M_EVENT_DB_STORE_LOADED = 6,
    /** LWM2M_DB_STORE_REFUSED (ERROR): database, revision, what is still served, reason. */
    LWM2M_EVENT_DB_STORE_REFUSED = 7,
    /** LWM2M_DB_LOST (WARN): database, what is still served, reason. */
    LWM2M_EVENT_DB_LOST = 8,
    /** LWM2M_DB_BACK (INFO): database, seconds it was unreachable. */
    LWM2M_EVENT_DB_BACK = 9,
    /** LWM2M_DB_CACHE_WRITE_FAILED (WARN): cache file, reason. */
    LWM2M_EVENT_DB_CACHE_WRITE_FAILED = 10,
};

#define LWM2M_EVENT_MAX_ARGUMENTS 4

typedef struct lwm2m_event {
    /** One of LWM2M_EVENT_*. */
    uint32_t kind;
    uint32_t argument_count;
    /** The message's %1..%4, NUL-terminated, truncated to fit. */
    char arguments[LWM2M_EVENT_MAX_ARGUMENTS][LWM2M_TEXT_CAPACITY];
} lwm2m_event;

/** Takes the oldest event not yet logged. Returns 1 when `event` was filled,
    0 when there is none. Call after configure, poll and every command. */
int32_t lwm2m_core_next_event(lwm2m_event *event);

/** Counts since the last call, for Kea's statistics. */
typedef struct lwm2m_statistic_delta {
    /** 0: the server-wide counters; otherwise Kea's subnet id. */
    uint32_t subnet_id;
    uint64_t uri_sent;
    uint64_t certificate_sent;
    uint64_t certificate_too_big;
    /** Server-wide only. */
    uint64_t uri_too_big;
    uint64_t reload_ok;
    uint64_t reload_failed;
} lwm2m_statistic_delta;

/** Takes the counts since the last call: the server-wide delta first, then
    each subnet with a non-zero delta. Writes up to `capacity` deltas and
    returns how many; call again while it returns `capacity`. */
size_t lwm2m_core_take_statistics(lwm2m_statistic_delta *deltas, size_t capacity);

/** With `store-database`: the revision served (0: none) and whether the
    database is connected, for the statistics lwm2m-database-revision and
    lwm2m-database-connected. Returns 1, or 0 when the store is a file. */
int32_t lwm2m_core_database_gauges(int64_t *revision, int32_t *connected);

/** A control command (lwm2m-reload, lwm2m-status, lwm2m-explain). */
typedef struct lwm2m_command_input {
    const char *command;
    size_t command_length;
    /** The command's `arguments` as JSON; NULL/0 when absent. */
    const char *arguments_json;
    size_t arguments_json_length;
    /** lwm2m-explain: the subnet Kea's current configuration has for the
        given subnet-id, or would select for the given address. */
    uint8_t has_subnet;
    lwm2m_subnet subnet;
    /** The prefix as Kea prints it ("192.0.2.0/24"). */
    const char *subnet_text;
    size_t subnet_text_length;
    /** Name of the subnet's shared network; NULL/0 when none. */
    const char *shared_network;
    size_t shared_network_length;
    /** Why no subnet was resolved; NULL/0 when one was (or none was asked for). */
    const char *subnet_error;
    size_t subnet_error_length;
} lwm2m_command_input;

/** Answers a command with Kea's whole answer as JSON text
    ({"result", "text", "arguments"}), NUL-terminated, allocated with
    malloc: release it with lwm2m_core_free(). NULL only when out of memory. */
char *lwm2m_core_command(const lwm2m_command_input *input);

/** Releases text returned by lwm2m_core_command(). NULL is fine. */
void lwm2m_core_free(char *text);

#ifdef __cplusplus
}
#endif

#endif /* LWM2M_CORE_H */
