import ArgumentParser

/// A Kea release series the hook is built for. The command checks a
/// configuration against one of them: its standard option codes
/// (`KeaStandardOptions`) and the keys its configuration parser accepts
/// (`KeaConfigKeys`).
enum KeaVersion: String, CaseIterable, Comparable, Sendable, ExpressibleByArgument {
    case v2_2 = "2.2"
    case v2_6 = "2.6"
    case v3_0 = "3.0"

    /// The version assumed when nothing says which Kea will read the file.
    static let newest = KeaVersion.v3_0

    /// "2.6", "2.6.3" or "Kea 2.6.3": the series, or nil for other versions.
    init?(versionText text: String) {
        var digits = Substring(text)
        if digits.hasPrefix("Kea ") { digits = digits.dropFirst(4) }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { return nil }
        self.init(rawValue: "\(parts[0]).\(parts[1])")
    }

    init?(argument: String) { self.init(versionText: argument) }

    static var allValueStrings: [String] { allCases.map(\.rawValue) }

    private var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    static func < (lhs: KeaVersion, rhs: KeaVersion) -> Bool { lhs.order < rhs.order }
}

/// The versions of a series that accept something: all from one version on,
/// or all up to one.
enum KeaVersionRange: Equatable, Sendable {
    case since(KeaVersion)
    case until(KeaVersion)

    func contains(_ version: KeaVersion) -> Bool {
        switch self {
        case .since(let first): version >= first
        case .until(let last): version <= last
        }
    }

    var versions: Set<KeaVersion> { Set(KeaVersion.allCases.filter(contains)) }

    /// "Kea 3.0", "Kea 2.6 and later", "Kea 2.2 only".
    var text: String {
        switch self {
        case .since(let first): first == KeaVersion.newest ? "Kea \(first.rawValue)" : "Kea \(first.rawValue) and later"
        case .until(let last): last == KeaVersion.allCases.first ? "Kea \(last.rawValue)" : "Kea \(last.rawValue) and earlier"
        }
    }
}
