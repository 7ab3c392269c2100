#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LwM2MCore

/// A certificate as the command prints it, from the core's parsing.
public enum CertificateSummary {
    public static func lines(_ certificate: ServerCertificate) -> [String] {
        [
            "subject: \(certificate.subject)",
            "issuer: \(certificate.issuer)",
            "valid: \(timestamp(certificate.notValidBefore)) to \(timestamp(certificate.notValidAfter))",
            "sha256: \(certificate.sha256Fingerprint)",
        ]
    }

    /// `2026-01-31T12:00:00Z`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
