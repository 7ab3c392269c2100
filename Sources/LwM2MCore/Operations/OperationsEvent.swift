/// Something the hook has to tell the operator, queued by the core and
/// logged by the shim with the message id of its kind (see docs/messages.md).
public struct OperationsEvent: Sendable, Equatable {
    /// The raw values are the C ABI's LWM2M_EVENT_* constants.
    public enum Kind: UInt32, Sendable {
        /// LWM2M_RELOADED: store path, summary.
        case reloaded = 1
        /// LWM2M_RELOAD_FAILED: store path, what is still served, reason.
        case reloadFailed = 2
        /// LWM2M_CERTIFICATE_EXPIRES_SOON: file, subject, notAfter, days left.
        case certificateExpiresSoon = 3
        /// LWM2M_CERTIFICATE_EXPIRED: file, subject, notAfter.
        case certificateExpired = 4
        /// LWM2M_CERTIFICATE_NEVER_FITS: store path, entries.
        case certificateNeverFits = 5
        /// LWM2M_DB_STORE_LOADED: database, revision, summary.
        case databaseLoaded = 6
        /// LWM2M_DB_STORE_REFUSED: database, revision, what is still served, reason.
        case databaseRefused = 7
        /// LWM2M_DB_LOST: database, what is still served, reason.
        case databaseLost = 8
        /// LWM2M_DB_BACK: database, seconds it was lost.
        case databaseBack = 9
        /// LWM2M_DB_CACHE_WRITE_FAILED: cache file, reason.
        case cacheWriteFailed = 10
    }

    public var kind: Kind
    public var arguments: [String]

    public init(_ kind: Kind, _ arguments: [String]) {
        self.kind = kind
        self.arguments = arguments
    }
}
