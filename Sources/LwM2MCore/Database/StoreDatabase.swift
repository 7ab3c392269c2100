/// The store's tables in PostgreSQL, and what the hook and `kea-lwm2m db`
/// do with them. docs/fleet.md describes the schema.
///
/// - `lwm2m_schema_version`: one row, the schema's version.
/// - `lwm2m_revision`: one row; `revision` goes up by one in every
///   transaction that changes the store (a trigger, so a change made by hand
///   with psql counts too), which also sends `NOTIFY lwm2m_store, '<revision>'`.
/// - `lwm2m_certificate`: each distinct certificate or raw public key once,
///   DER, keyed by its SHA-256, with its RFC 7296 encoding octet (4: X.509
///   certificate, `server-certificate`; 15: raw public key, `server-public-key`).
/// - `lwm2m_entry`: one row per entry (position 0 is the `default`), the
///   entry's JSON map and the certificate it refers to. Each row carries the
///   revision that last wrote it, and `lwm2m_entry_deleted` the revision that
///   deleted a position, so "what changed since revision R" is one query.
public enum StoreDatabase {
    /// The schema this code reads and writes.
    public static let schemaVersion = 2
    /// The channel every change is notified on.
    public static let channel = "lwm2m_store"

    /// Version 1, from nothing.
    static let schema1 = """
        CREATE TABLE lwm2m_schema_version (version integer NOT NULL);
        INSERT INTO lwm2m_schema_version VALUES (1);
        CREATE TABLE lwm2m_revision (
            only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
            revision bigint NOT NULL DEFAULT 0,
            changed_at timestamptz NOT NULL DEFAULT now(),
            changed_by_txid bigint);
        INSERT INTO lwm2m_revision DEFAULT VALUES;
        CREATE TABLE lwm2m_certificate (
            sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            der bytea NOT NULL,
            revision bigint NOT NULL DEFAULT 0);
        CREATE TABLE lwm2m_entry (
            position integer PRIMARY KEY CHECK (position >= 0),
            body jsonb NOT NULL CHECK (jsonb_typeof(body) = 'object'),
            certificate text REFERENCES lwm2m_certificate (sha256),
            revision bigint NOT NULL DEFAULT 0);
        CREATE INDEX lwm2m_entry_revision ON lwm2m_entry (revision);
        CREATE TABLE lwm2m_entry_deleted (
            position integer PRIMARY KEY,
            revision bigint NOT NULL);
        CREATE FUNCTION lwm2m_bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE bumped bigint;
        BEGIN
            UPDATE lwm2m_revision SET revision = revision + 1, changed_at = now(), changed_by_txid = txid_current()
                WHERE changed_by_txid IS DISTINCT FROM txid_current() RETURNING revision INTO bumped;
            IF bumped IS NOT NULL THEN
                PERFORM pg_notify('lwm2m_store', bumped::text);
            END IF;
            RETURN NULL;
        END $$;
        CREATE FUNCTION lwm2m_stamp_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.revision := (SELECT revision FROM lwm2m_revision);
            RETURN NEW;
        END $$;
        CREATE FUNCTION lwm2m_entry_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO lwm2m_entry_deleted (position, revision)
                VALUES (OLD.position, (SELECT revision FROM lwm2m_revision))
                ON CONFLICT (position) DO UPDATE SET revision = EXCLUDED.revision;
            RETURN OLD;
        END $$;
        CREATE TRIGGER lwm2m_entry_bump BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON lwm2m_entry
            FOR EACH STATEMENT EXECUTE FUNCTION lwm2m_bump_revision();
        CREATE TRIGGER lwm2m_certificate_bump BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON lwm2m_certificate
            FOR EACH STATEMENT EXECUTE FUNCTION lwm2m_bump_revision();
        CREATE TRIGGER lwm2m_entry_stamp BEFORE INSERT OR UPDATE ON lwm2m_entry
            FOR EACH ROW EXECUTE FUNCTION lwm2m_stamp_row();
        CREATE TRIGGER lwm2m_certificate_stamp BEFORE INSERT OR UPDATE ON lwm2m_certificate
            FOR EACH ROW EXECUTE FUNCTION lwm2m_stamp_row();
        CREATE TRIGGER lwm2m_entry_deleted AFTER DELETE ON lwm2m_entry
            FOR EACH ROW EXECUTE FUNCTION lwm2m_entry_tombstone();
        """

    /// Version 2, from version 1: the bytes table says what its DER is
    /// (raw public keys besides certificates). Rows already there are
    /// certificates; adding the column writes no row, so no revision goes by.
    static let upgrade2 = """
        ALTER TABLE lwm2m_certificate ADD COLUMN encoding smallint NOT NULL DEFAULT 4 CHECK (encoding IN (4, 15));
        UPDATE lwm2m_schema_version SET version = 2;
        """

    /// The schema version of the connected database; nil when it has none.
    public static func version(_ connection: PostgresConnection) throws(DatabaseError) -> Int? {
        let exists = try connection.execute("SELECT to_regclass('lwm2m_schema_version') IS NOT NULL")
        guard exists.bool(0, 0) == true else { return nil }
        let row = try connection.execute("SELECT max(version) FROM lwm2m_schema_version")
        return row.integer(0, 0).map { Int($0) }
    }

    /// Creates the schema, or upgrades an older one. Returns the version
    /// found (nil: none) and the version now.
    @discardableResult
    public static func initialize(_ connection: PostgresConnection) throws(DatabaseError) -> (found: Int?, now: Int) {
        try connection.transaction { () throws(DatabaseError) -> (found: Int?, now: Int) in
            // One `db init` at a time.
            try connection.execute("SELECT pg_advisory_xact_lock(5172)")
            let found = try version(connection)
            switch found {
            case let version? where version > schemaVersion:
                throw DatabaseError("the database has schema version \(version), newer than this kea-lwm2m's \(schemaVersion): upgrade kea-lwm2m")
            default:
                // From nothing, or from an older version, one step at a time.
                let upgrades: [(version: Int, script: String)] = [(1, schema1), (2, upgrade2)]
                for upgrade in upgrades where upgrade.version > (found ?? 0) {
                    for statement in statements(upgrade.script) { try connection.execute(statement) }
                }
            }
            return (found, schemaVersion)
        }
    }

    /// Splits a script at the semicolons that end statements (not those in
    /// `$$ ... $$` bodies).
    static func statements(_ script: String) -> [String] {
        var out: [String] = []
        var current = ""
        var inBody = false
        var rest = Substring(script)
        while let character = rest.first {
            if rest.hasPrefix("$$") {
                inBody.toggle()
                current += "$$"
                rest = rest.dropFirst(2)
                continue
            }
            rest = rest.dropFirst()
            if character == ";" && !inBody {
                let statement = current.split(separator: "\n").map { $0.trimmingSpaces }.joined(separator: "\n")
                if !statement.isEmpty { out.append(statement) }
                current = ""
            } else {
                current.append(character)
            }
        }
        return out
    }

    /// Refuses a database without the schema or with another version.
    public static func requireSchema(_ connection: PostgresConnection) throws(DatabaseError) {
        switch try version(connection) {
        case nil: throw DatabaseError("the database has no kea-lwm2m schema: run 'kea-lwm2m db init'")
        case let version? where version != schemaVersion:
            throw DatabaseError("the database has schema version \(version), this kea-lwm2m reads version \(schemaVersion)")
        default: break
        }
    }

    /// Replaces the store with `rows` in one transaction: rows that did not
    /// change are not written (they keep their revision). Returns the new
    /// revision; the commit notifies every follower.
    public static func replace(_ connection: PostgresConnection, with rows: StoreRows) throws(DatabaseError) -> Int64 {
        try connection.transaction { () throws(DatabaseError) -> Int64 in
            try requireSchema(connection)
            try connection.execute("""
                CREATE TEMPORARY TABLE lwm2m_import (position integer PRIMARY KEY, body jsonb NOT NULL,
                                                     certificate text) ON COMMIT DROP
                """)
            try connection.copy("COPY lwm2m_import (position, body, certificate) FROM STDIN",
                                rows: rows.entries.lazy.map { [String($0.position), $0.body, $0.certificate] })
            for (sha, der) in rows.certificates.sorted(by: { $0.key < $1.key }) {
                try connection.execute("""
                    INSERT INTO lwm2m_certificate (sha256, der, encoding) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING
                    """, [.text(sha), .binary(der), .text(String(rows.encoding(of: sha).rawValue))])
            }
            // A statement trigger: one revision per import, also when nothing changed.
            try connection.execute("""
                DELETE FROM lwm2m_entry e WHERE NOT EXISTS (SELECT 1 FROM lwm2m_import i WHERE i.position = e.position)
                """)
            try connection.execute("""
                INSERT INTO lwm2m_entry (position, body, certificate)
                    SELECT position, body, certificate FROM lwm2m_import
                ON CONFLICT (position) DO UPDATE SET body = EXCLUDED.body, certificate = EXCLUDED.certificate
                    WHERE (lwm2m_entry.body, lwm2m_entry.certificate) IS DISTINCT FROM (EXCLUDED.body, EXCLUDED.certificate)
                """)
            try connection.execute("""
                DELETE FROM lwm2m_certificate c WHERE NOT EXISTS (SELECT 1 FROM lwm2m_entry e WHERE e.certificate = c.sha256)
                """)
            let revision = try connection.execute("SELECT revision FROM lwm2m_revision")
            guard let value = revision.integer(0, 0) else { throw DatabaseError("lwm2m_revision has no row") }
            return value
        }
    }

    /// The store's revision, and its rows when the revision is not `seen`
    /// (one consistent snapshot of the tables). `checkSchema` false: the
    /// caller checked it on this connection already (the follower does once
    /// per connection, saving two round trips per change).
    public static func fetch(_ connection: PostgresConnection, unless seen: Int64?, checkSchema: Bool = true)
        throws(DatabaseError) -> (revision: Int64, rows: StoreRows?) {
        try connection.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { () throws(DatabaseError) -> (revision: Int64, rows: StoreRows?) in
            if checkSchema { try requireSchema(connection) }
            let head = try connection.execute("SELECT revision FROM lwm2m_revision")
            guard let revision = head.integer(0, 0) else { throw DatabaseError("lwm2m_revision has no row") }
            if revision == seen { return (revision, nil) }
            let certificateRows = try connection.execute("SELECT sha256, der, encoding FROM lwm2m_certificate")
            let (certificates, rawPublicKeys) = readCertificates(certificateRows)
            let entryRows = try connection.execute(
                "SELECT position, body::text, certificate FROM lwm2m_entry ORDER BY position")
            return (revision, StoreRows(entries: readEntries(entryRows), certificates: certificates,
                                        rawPublicKeys: rawPublicKeys))
        }
    }

    /// What changed since revision `since`: the rows written after it, the
    /// positions deleted after it, and the certificates written after it.
    public struct Changes: Sendable {
        public var revision: Int64
        public var entries: [StoreRows.Entry]
        public var deleted: [Int32]
        public var certificates: [String: [UInt8]]
        /// Rows in `lwm2m_entry` at `revision`: a change made without
        /// tombstones (TRUNCATE by hand) shows as a count the held store
        /// does not have.
        public var entryCount: Int64
        /// Which of `certificates` are raw public keys (encoding 15).
        public var rawPublicKeys: Set<String> = []
    }

    /// The store's revision, and what changed since `since` when the
    /// revision is not `seen` (one consistent snapshot of the tables, so
    /// applying the changes to the store at `since` gives the store at the
    /// revision returned). The caller checked the schema on this connection.
    public static func fetchChanges(_ connection: PostgresConnection, since: Int64, unless seen: Int64?)
        throws(DatabaseError) -> Changes? {
        try connection.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { () throws(DatabaseError) -> Changes? in
            let head = try connection.execute(
                "SELECT revision, (SELECT count(*) FROM lwm2m_entry) FROM lwm2m_revision")
            guard let revision = head.integer(0, 0), let count = head.integer(0, 1) else {
                throw DatabaseError("lwm2m_revision has no row")
            }
            if revision == seen { return nil }
            let since = PostgresValue.text(String(since))
            let certificateRows = try connection.execute(
                "SELECT sha256, der, encoding FROM lwm2m_certificate WHERE revision > $1", [since])
            let (certificates, rawPublicKeys) = readCertificates(certificateRows)
            let entryRows = try connection.execute(
                "SELECT position, body::text, certificate FROM lwm2m_entry WHERE revision > $1 ORDER BY position", [since])
            let entries = readEntries(entryRows)
            let deletedRows = try connection.execute(
                "SELECT position FROM lwm2m_entry_deleted WHERE revision > $1 ORDER BY position", [since])
            let deleted = (0..<deletedRows.rowCount).map { Int32(clamping: deletedRows.integer($0, 0) ?? -1) }
            return Changes(revision: revision, entries: entries, deleted: deleted, certificates: certificates,
                           entryCount: count, rawPublicKeys: rawPublicKeys)
        }
    }

    /// Rows of `SELECT position, body::text, certificate`.
    /// The rows of `SELECT sha256, der, encoding FROM lwm2m_certificate`:
    /// the bytes by SHA-256, and which of them are raw public keys.
    static func readCertificates(_ result: PostgresResult) -> (certificates: [String: [UInt8]], rawPublicKeys: Set<String>) {
        var certificates: [String: [UInt8]] = [:]
        var rawPublicKeys: Set<String> = []
        for row in 0..<result.rowCount {
            if let sha = result.text(row, 0), let der = result.bytes(row, 1) {
                certificates[sha] = der
                if result.integer(row, 2) == Int64(ServerCertificate.Encoding.rawPublicKey.rawValue) {
                    rawPublicKeys.insert(sha)
                }
            }
        }
        return (certificates, rawPublicKeys)
    }

    static func readEntries(_ result: PostgresResult) -> [StoreRows.Entry] {
        var entries: [StoreRows.Entry] = []
        entries.reserveCapacity(result.rowCount)
        for row in 0..<result.rowCount {
            entries.append(StoreRows.Entry(position: Int32(clamping: result.integer(row, 0) ?? -1),
                                           body: result.text(row, 1) ?? "null",
                                           certificate: result.text(row, 2)))
        }
        return entries
    }

    /// What `kea-lwm2m db status` shows.
    public struct Status: Sendable {
        public var schemaVersion: Int
        public var revision: Int64
        public var changedAt: String
        public var entries: Int
        public var certificates: Int
        /// The hook's connections: application name, client address (empty:
        /// unix socket), connected since.
        public var followers: [(name: String, address: String, since: String)]
    }

    public static func status(_ connection: PostgresConnection) throws(DatabaseError) -> Status {
        try requireSchema(connection)
        let head = try connection.execute("""
            SELECT r.revision, to_char(r.changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   (SELECT count(*) FROM lwm2m_entry), (SELECT count(*) FROM lwm2m_certificate)
            FROM lwm2m_revision r
            """)
        let followers = try connection.execute("""
            SELECT application_name, coalesce(host(client_addr), ''),
                   to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM pg_stat_activity WHERE application_name LIKE 'kea-lwm2m %' AND datname = current_database()
                AND pid <> pg_backend_pid()
            ORDER BY application_name
            """)
        return Status(schemaVersion: schemaVersion, revision: head.integer(0, 0) ?? 0, changedAt: head.text(0, 1) ?? "",
                      entries: Int(head.integer(0, 2) ?? 0), certificates: Int(head.integer(0, 3) ?? 0),
                      followers: (0..<followers.rowCount).map {
                          (followers.text($0, 0) ?? "", followers.text($0, 1) ?? "", followers.text($0, 2) ?? "")
                      })
    }
}
