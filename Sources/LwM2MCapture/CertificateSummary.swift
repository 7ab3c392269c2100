#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LwM2MCore

/// A certificate (or raw public key) as the command prints it, from the core's parsing.
public enum CertificateSummary {
    public static func lines(_ certificate: ServerCertificate) -> [String] {
        var lines: [String] = []
        if let keyType = certificate.keyType {
            lines.append("key type: \(keyType.rawValue) (SubjectPublicKeyInfo, \(certificate.der.count) octets)")
        }
        if let subject = certificate.subject { lines.append("subject: \(subject)") }
        if let issuer = certificate.issuer { lines.append("issuer: \(issuer)") }
        if let notBefore = certificate.notValidBefore, let notAfter = certificate.notValidAfter {
            lines.append("valid: \(timestamp(notBefore)) to \(timestamp(notAfter))")
        }
        lines.append("sha256: \(certificate.sha256Fingerprint)")
        return lines
    }

    /// `2026-01-31T12:00:00Z`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
