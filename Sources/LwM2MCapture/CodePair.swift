import LwM2MCore

/// The server's two option codes: the bootstrap URI's and the certificate's.
public struct CodePair: Sendable, Equatable {
    public let uri: UInt16
    public let certificate: UInt16

    public init(uri: UInt16, certificate: UInt16) {
        self.uri = uri
        self.certificate = certificate
    }

    /// `URI,CERT` as an operator writes it (`224,225`): two different
    /// codes, neither 0; nil otherwise.
    public init?(text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let uri = UInt16(parts[0]), let certificate = UInt16(parts[1]),
              uri > 0, certificate > 0, uri != certificate else { return nil }
        self.init(uri: uri, certificate: certificate)
    }

    /// The hook's default codes for `family`.
    public static func defaults(for family: AddressFamily) -> CodePair {
        let codes = HookParameters.defaultCodes(for: family)
        return CodePair(uri: codes.uri, certificate: codes.certificate)
    }
}
