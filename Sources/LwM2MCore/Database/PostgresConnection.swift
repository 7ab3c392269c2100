import CLibPQ
#if canImport(Glibc)
import Glibc
#endif

/// Something went wrong talking to PostgreSQL: connecting, a statement, or
/// the connection broke. `reason` is libpq's or the server's text.
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    /// The connection is unusable (lost, or never made): reconnect.
    public var connectionLost: Bool
    /// A wakeup (unload) interrupted the wait: stop at once.
    public var interrupted: Bool = false

    public init(_ reason: String, connectionLost: Bool = false) {
        self.reason = reason
        self.connectionLost = connectionLost
    }

    static let stopped: DatabaseError = {
        var error = DatabaseError("stopped", connectionLost: true)
        error.interrupted = true
        return error
    }()

    public var description: String { reason }
}

/// One libpq connection, used without ever blocking in libpq: every wait is
/// a poll() on the connection's socket and, for the hook's follower thread,
/// a wakeup descriptor that unload() makes readable, so a hung or
/// unreachable database never holds the caller beyond its deadline or the
/// hook's unload.
public final class PostgresConnection {
    private let connection: OpaquePointer
    /// Made readable to interrupt any wait (-1: none).
    private let wakeup: Int32

    private init(_ connection: OpaquePointer, wakeup: Int32) {
        self.connection = connection
        self.wakeup = wakeup
    }

    deinit { PQfinish(connection) }

    /// Connects within `timeout` seconds.
    public static func connect(_ keywords: [(String, String)], timeout: Double, wakeup: Int32 = -1)
        throws(DatabaseError) -> PostgresConnection {
        let deadline = Monotonic.now() + timeout
        let names = keywords.map { strdup($0.0) }
        let values = keywords.map { strdup($0.1) }
        defer {
            names.forEach { free($0) }
            values.forEach { free($0) }
        }
        var namePointers: [UnsafePointer<CChar>?] = names.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        guard let raw = namePointers.withUnsafeMutableBufferPointer({ n in
            valuePointers.withUnsafeMutableBufferPointer { v in PQconnectStartParams(n.baseAddress, v.baseAddress, 0) }
        }) else {
            throw DatabaseError("cannot allocate a libpq connection", connectionLost: true)
        }
        let connection = PostgresConnection(raw, wakeup: wakeup)
        guard PQstatus(raw) != CONNECTION_BAD else { throw connection.failure(connectionLost: true) }
        var status = PGRES_POLLING_WRITING
        while true {
            switch status {
            case PGRES_POLLING_OK:
                guard PQsetnonblocking(raw, 1) == 0 else { throw connection.failure(connectionLost: true) }
                return connection
            case PGRES_POLLING_FAILED:
                throw connection.failure(connectionLost: true)
            default:
                let events = Int16(status == PGRES_POLLING_READING ? POLLIN : POLLOUT)
                try connection.wait(for: events, until: deadline, what: "connecting")
            }
            status = PQconnectPoll(raw)
        }
    }

    /// The socket notifications arrive on.
    public var socket: Int32 { PQsocket(connection) }

    /// Runs one statement with `parameters` ($1, $2, ...) and returns its
    /// rows, every column in binary format. Waits at most `timeout` seconds.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = [], timeout: Double = 60)
        throws(DatabaseError) -> PostgresResult {
        let deadline = Monotonic.now() + timeout
        let sent: Int32 = withParameters(parameters) { count, values, lengths, formats in
            PQsendQueryParams(connection, sql, count, nil, values, lengths, formats, 1)
        }
        guard sent == 1 else { throw failure() }
        try flush(until: deadline)
        var last: PostgresResult? = nil
        var problem: DatabaseError? = nil
        while true {
            while PQisBusy(connection) == 1 {
                try wait(for: Int16(POLLIN), until: deadline, what: "waiting for the server")
                guard PQconsumeInput(connection) == 1 else { throw failure() }
            }
            guard let result = PQgetResult(connection) else { break }
            let wrapped = PostgresResult(result)
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK: last = wrapped
            default:
                if problem == nil { problem = DatabaseError(Self.text(PQresultErrorMessage(result)) ?? "statement failed") }
            }
        }
        if let problem { throw problem }
        guard PQstatus(connection) == CONNECTION_OK else { throw failure() }
        return last ?? PostgresResult(nil)
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when
    /// it throws.
    public func transaction<T>(_ begin: String = "BEGIN", _ body: () throws(DatabaseError) -> T) throws(DatabaseError) -> T {
        try execute(begin)
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if !error.connectionLost { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Sends rows to a `COPY ... FROM STDIN` (text format) already started.
    public func copy(_ sql: String, rows: some Sequence<[String?]>, timeout: Double = 300) throws(DatabaseError) {
        let deadline = Monotonic.now() + timeout
        guard PQsendQueryParams(connection, sql, 0, nil, nil, nil, nil, 0) == 1 else { throw failure() }
        try flush(until: deadline)
        while PQisBusy(connection) == 1 {
            try wait(for: Int16(POLLIN), until: deadline, what: "starting COPY")
            guard PQconsumeInput(connection) == 1 else { throw failure() }
        }
        guard let started = PQgetResult(connection) else { throw failure() }
        let status = PQresultStatus(started)
        let startError = Self.text(PQresultErrorMessage(started))
        PQclear(started)
        guard status == PGRES_COPY_IN else { throw DatabaseError(startError ?? "COPY did not start") }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        func send() throws(DatabaseError) {
            guard !buffer.isEmpty else { return }
            while true {
                let put = buffer.withUnsafeBufferPointer { raw in
                    raw.withMemoryRebound(to: CChar.self) { PQputCopyData(connection, $0.baseAddress, Int32($0.count)) }
                }
                if put == 1 { break }
                guard put == 0 else { throw failure() }
                try wait(for: Int16(POLLOUT), until: deadline, what: "sending COPY data")
            }
            buffer.removeAll(keepingCapacity: true)
            try flush(until: deadline)
        }
        for row in rows {
            for (index, column) in row.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: "\t")) }
                if let column { Self.appendCopyText(column, to: &buffer) } else { buffer.append(contentsOf: Array("\\N".utf8)) }
            }
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= 1 << 20 { try send() }
        }
        try send()
        while true {
            let end = PQputCopyEnd(connection, nil)
            if end == 1 { break }
            guard end == 0 else { throw failure() }
            try wait(for: Int16(POLLOUT), until: deadline, what: "ending COPY")
        }
        try flush(until: deadline)
        var problem: DatabaseError? = nil
        while true {
            while PQisBusy(connection) == 1 {
                try wait(for: Int16(POLLIN), until: deadline, what: "finishing COPY")
                guard PQconsumeInput(connection) == 1 else { throw failure() }
            }
            guard let result = PQgetResult(connection) else { break }
            if PQresultStatus(result) != PGRES_COMMAND_OK, problem == nil {
                problem = DatabaseError(Self.text(PQresultErrorMessage(result)) ?? "COPY failed")
            }
            PQclear(result)
        }
        if let problem { throw problem }
    }

    /// COPY's text format: backslash, tab, newline and carriage return escaped.
    private static func appendCopyText(_ text: String, to buffer: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: buffer.append(byte)
            }
        }
    }

    /// Reads what the server sent without waiting and returns the payloads
    /// of the notifications received on any channel. Throws when the
    /// connection is gone.
    public func takeNotifications() throws(DatabaseError) -> [String] {
        guard PQconsumeInput(connection) == 1 else { throw failure() }
        var payloads: [String] = []
        while let notice = PQnotifies(connection) {
            payloads.append(Self.text(notice.pointee.extra) ?? "")
            PQfreemem(notice)
        }
        guard PQstatus(connection) == CONNECTION_OK else { throw failure() }
        return payloads
    }

    /// Waits until the socket is readable (true), the wakeup fired (throws
    /// `interrupted`), or `timeout` seconds passed (false).
    public func waitReadable(timeout: Double) throws(DatabaseError) -> Bool {
        do {
            try wait(for: Int16(POLLIN), until: Monotonic.now() + timeout, what: "")
            return true
        } catch where error.interrupted {
            throw error
        } catch {
            return false
        }
    }

    private func flush(until deadline: Double) throws(DatabaseError) {
        while true {
            let status = PQflush(connection)
            if status == 0 { return }
            guard status == 1 else { throw failure() }
            try wait(for: Int16(POLLIN | POLLOUT), until: deadline, what: "sending")
            guard PQconsumeInput(connection) == 1 else { throw failure() }
        }
    }

    /// poll() on the socket (and the wakeup) until `events` or `deadline`.
    private func wait(for events: Int16, until deadline: Double, what: String) throws(DatabaseError) {
        let descriptor = PQsocket(connection)
        guard descriptor >= 0 else { throw failure(connectionLost: true) }
        while true {
            let left = deadline - Monotonic.now()
            guard left > 0 else {
                throw DatabaseError("timed out \(what)", connectionLost: true)
            }
            var fds = [pollfd(fd: descriptor, events: events, revents: 0),
                       pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0)]
            let count = nfds_t(wakeup >= 0 ? 2 : 1)
            let ready = poll(&fds, count, Int32(min(left * 1000 + 1, 3_600_000)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw DatabaseError("poll failed: errno \(errno)", connectionLost: true)
            }
            if wakeup >= 0 && fds[1].revents != 0 { throw DatabaseError.stopped }
            if ready > 0 && fds[0].revents != 0 { return }
        }
    }

    private func failure(connectionLost: Bool? = nil) -> DatabaseError {
        let lost = connectionLost ?? (PQstatus(connection) != CONNECTION_OK)
        let message = Self.text(PQerrorMessage(connection)) ?? "unknown libpq error"
        return DatabaseError(message, connectionLost: lost)
    }

    static func text(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        let text = String(cString: pointer)
        let trimmed = text.split(separator: "\n").map { $0.trimmingSpaces }.filter { !$0.isEmpty }.joined(separator: "; ")
        return trimmed.isEmpty ? nil : trimmed
    }

    private func withParameters<R>(_ parameters: [PostgresValue],
                                   _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
                                            UnsafePointer<Int32>?) -> R) -> R {
        let buffers: [[CChar]?] = parameters.map { value in
            switch value {
            case .null: return nil
            case .text(let text): return Array(text.utf8CString)
            case .binary(let bytes): return bytes.isEmpty ? [0] : bytes.map { CChar(bitPattern: $0) }
            }
        }
        let lengths: [Int32] = parameters.map { value in
            if case .binary(let bytes) = value { return Int32(clamping: bytes.count) }
            return 0
        }
        let formats: [Int32] = parameters.map { value in
            if case .binary = value { return 1 }
            return 0
        }
        // Pointers into `buffers`, valid while it lives (this call).
        var pointers: [UnsafePointer<CChar>?] = []
        var storage: [UnsafeMutablePointer<CChar>] = []
        for buffer in buffers {
            guard let buffer else { pointers.append(nil); continue }
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(buffer.count, 1))
            copy.initialize(from: buffer, count: buffer.count)
            storage.append(copy)
            pointers.append(UnsafePointer(copy))
        }
        defer { storage.forEach { $0.deallocate() } }
        return pointers.withUnsafeBufferPointer { p in
            lengths.withUnsafeBufferPointer { l in
                formats.withUnsafeBufferPointer { f in
                    body(Int32(parameters.count), p.baseAddress, l.baseAddress, f.baseAddress)
                }
            }
        }
    }
}

/// A statement parameter.
public enum PostgresValue: Sendable {
    case null
    case text(String)
    case binary([UInt8])
}

/// The rows of one statement, columns in binary format.
public final class PostgresResult {
    private let result: OpaquePointer?

    init(_ result: OpaquePointer?) { self.result = result }
    deinit { if let result { PQclear(result) } }

    public var rowCount: Int { result.map { Int(PQntuples($0)) } ?? 0 }

    public func isNull(_ row: Int, _ column: Int) -> Bool {
        guard let result else { return true }
        return PQgetisnull(result, Int32(row), Int32(column)) == 1
    }

    /// The column's bytes (binary format: text as UTF-8, bytea as is).
    public func bytes(_ row: Int, _ column: Int) -> [UInt8]? {
        guard let result, !isNull(row, column) else { return nil }
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard let value = PQgetvalue(result, Int32(row), Int32(column)) else { return nil }
        return Array(UnsafeRawBufferPointer(start: value, count: length))
    }

    public func text(_ row: Int, _ column: Int) -> String? {
        bytes(row, column).map { String(decoding: $0, as: UTF8.self) }
    }

    /// An int2, int4 or int8 column (binary: big-endian).
    public func integer(_ row: Int, _ column: Int) -> Int64? {
        guard let raw = bytes(row, column), [2, 4, 8].contains(raw.count) else { return nil }
        var value: Int64 = raw[0] & 0x80 != 0 ? -1 : 0
        for byte in raw { value = (value << 8) | Int64(byte) }
        return value
    }

    public func bool(_ row: Int, _ column: Int) -> Bool? {
        bytes(row, column).map { $0.first == 1 }
    }
}

/// CLOCK_MONOTONIC in seconds.
enum Monotonic {
    static func now() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// CPU time of the calling thread, in seconds.
    static func threadCPU() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
        return text
    }
}
