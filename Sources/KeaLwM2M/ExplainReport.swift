import LwM2MCapture
import LwM2MCore

/// Prints the core's decision for `explain`.
struct ExplainReport {
    let answer: Answer
    let buffer: [UInt8]
    let snapshot: Snapshot
    let replySize: Int

    func print() {
        let family = snapshot.family
        guard let index = answer.entryIndex, let entry = Self.entry(index, in: snapshot.store) else {
            Swift.print("result: no entry applies; the reply carries no LwM2M options")
            return
        }
        Swift.print("result: \(Self.name(entry)) applies")
        Swift.print("  bootstrap-uri: \(entry.bootstrapURI.map(\.description) ?? "none")")
        let certificateEntry = answer.certificateEntryIndex.flatMap { Self.entry($0, in: snapshot.store) }
        if let certificateEntry, let certificate = certificateEntry.certificate {
            let from = certificateEntry.index == entry.index ? "" : ", from \(Self.name(certificateEntry))"
            let what = certificate.encoding == .rawPublicKey ? "SubjectPublicKeyInfo, encoding 15" : "DER"
            Swift.print("  \(certificate.storeKey): \(certificateEntry.certificatePath ?? "?") (\(certificate.der.count) octets \(what)\(from))")
            for line in CertificateSummary.lines(certificate) { Swift.print("    \(line)") }
        } else {
            Swift.print("  server-certificate: none")
        }
        if family == .v4 {
            Swift.print("  size limit: \(answer.sizeLimit) octets of IP datagram; \(replySize) octets of reply before these options")
        }
        let flags = answer.flags
        if flags.contains(.uriTooBig) { Swift.print("  the URI does not fit the reply: left out (and the certificate with it)") }
        if flags.contains(.certificateTooBig) {
            Swift.print("  the certificate does not fit the reply: left out (a client announcing a larger option 57 gets it)")
        }
        if let range = answer.uri {
            Swift.print("URI option (code \(snapshot.parameters.bootstrapURICode)), \(range.count) octets:")
            wire(Array(buffer[range]), family: family)
        }
        if let range = answer.certificate {
            Swift.print("certificate option (code \(snapshot.parameters.serverCertificateCode)), \(range.count) octets:")
            wire(Array(buffer[range]), family: family)
        }
    }

    private static func entry(_ index: Int, in store: Store) -> StoreEntry? {
        if index == StoreEntry.defaultIndex { return store.defaultEntry }
        return store.entries.indices.contains(index) ? store.entries[index] : nil
    }

    private static func name(_ entry: StoreEntry) -> String {
        entry.index == StoreEntry.defaultIndex ? "the default" : "entry \(entry.index + 1) (\(entry.selector))"
    }

    private func wire(_ bytes: [UInt8], family: AddressFamily) {
        guard family == .v4 else { Swift.print("  \(Output.hex(bytes))"); return }
        let parts = DHCPv4Instances.split(bytes)
        for (number, part) in parts.enumerated() {
            Swift.print(parts.count == 1 ? "  \(Output.hex(part))" : "  [\(number + 1)] \(Output.hex(part))")
        }
    }
}
