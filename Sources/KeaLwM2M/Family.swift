import ArgumentParser
import LwM2MCore

/// `--family 4|6`.
struct FamilyArgument: ExpressibleByArgument {
    let family: AddressFamily

    init?(argument: String) {
        switch argument {
        case "4", "v4", "dhcp4": family = .v4
        case "6", "v6", "dhcp6": family = .v6
        default: return nil
        }
    }

    static var allValueStrings: [String] { ["4", "6"] }
}

/// `--codes URI,CERT`.
struct CodePair: ExpressibleByArgument {
    let uri: UInt16
    let certificate: UInt16

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let uri = UInt16(parts[0]), let certificate = UInt16(parts[1]),
              uri > 0, certificate > 0, uri != certificate else { return nil }
        self.uri = uri
        self.certificate = certificate
    }

    init(uri: UInt16, certificate: UInt16) {
        self.uri = uri
        self.certificate = certificate
    }

    /// The hook's default codes for `family`.
    static func defaults(for family: AddressFamily) -> CodePair {
        let codes = HookParameters.defaultCodes(for: family)
        return CodePair(uri: codes.uri, certificate: codes.certificate)
    }
}
