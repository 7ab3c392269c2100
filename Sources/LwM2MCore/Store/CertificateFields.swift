import SwiftASN1
import X509
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The names and validity of a DER certificate, read from its structure
/// (RFC 5280 §4.1) without interpreting the public key.
///
/// swift-certificates builds a usable key from every certificate it parses,
/// and swift-crypto refuses EC points in compressed form, which RFC 5480
/// allows and constrained deployments use to save octets. The hook only
/// forwards the certificate; it never uses the key. So a certificate that
/// fails only there is still accepted, after this structural check.
struct CertificateFields {
    let subject: DistinguishedName
    let issuer: DistinguishedName
    let notValidBefore: Date
    let notValidAfter: Date

    init(der: [UInt8]) throws {
        let root = try DER.parse(der)
        self = try DER.sequence(root, identifier: .sequence) { certificate in
            guard let tbs = certificate.next(), certificate.next() != nil, certificate.next() != nil else {
                throw CertificateFieldsError.missing("signatureAlgorithm or signatureValue")
            }
            return try DER.sequence(tbs, identifier: .sequence) { fields in
                var node = fields.next()
                if node?.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                    node = fields.next()   // [0] version
                }
                guard node?.identifier == .integer else { throw CertificateFieldsError.missing("serialNumber") }
                guard fields.next() != nil else { throw CertificateFieldsError.missing("signature") }
                guard let issuerNode = fields.next() else { throw CertificateFieldsError.missing("issuer") }
                let issuer = try DistinguishedName(derEncoded: issuerNode)
                guard let validityNode = fields.next() else { throw CertificateFieldsError.missing("validity") }
                let (notBefore, notAfter) = try DER.sequence(validityNode, identifier: .sequence) { times in
                    (try Self.time(times.next()), try Self.time(times.next()))
                }
                guard let subjectNode = fields.next() else { throw CertificateFieldsError.missing("subject") }
                let subject = try DistinguishedName(derEncoded: subjectNode)
                guard fields.next() != nil else { throw CertificateFieldsError.missing("subjectPublicKeyInfo") }
                while fields.next() != nil {}   // unique ids, extensions
                return CertificateFields(subject: subject, issuer: issuer, notValidBefore: notBefore, notValidAfter: notAfter)
            }
        }
    }

    private init(subject: DistinguishedName, issuer: DistinguishedName, notValidBefore: Date, notValidAfter: Date) {
        self.subject = subject
        self.issuer = issuer
        self.notValidBefore = notValidBefore
        self.notValidAfter = notValidAfter
    }

    private static func time(_ node: ASN1Node?) throws -> Date {
        guard let node else { throw CertificateFieldsError.missing("validity time") }
        let parts: (year: Int, month: Int, day: Int, hours: Int, minutes: Int, seconds: Int)
        switch node.identifier {
        case .utcTime:
            let time = try UTCTime(derEncoded: node)
            parts = (time.year, time.month, time.day, time.hours, time.minutes, time.seconds)
        case .generalizedTime:
            let time = try GeneralizedTime(derEncoded: node)
            parts = (time.year, time.month, time.day, time.hours, time.minutes, time.seconds)
        default:
            throw CertificateFieldsError.missing("validity time")
        }
        // Days from 1970-01-01 to the civil date (proleptic Gregorian calendar).
        let year = parts.month <= 2 ? parts.year - 1 : parts.year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (parts.month + (parts.month > 2 ? -3 : 9)) + 2) / 5 + parts.day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + parts.hours * 3600 + parts.minutes * 60 + parts.seconds
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}

enum CertificateFieldsError: Error, CustomStringConvertible {
    case missing(String)
    var description: String {
        switch self {
        case .missing(let field): "no \(field)"
        }
    }
}
