import ArgumentParser
import LwM2MCapture
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
extension CodePair: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(text: argument)
    }
}
