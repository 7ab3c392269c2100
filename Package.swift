// swift-tools-version:6.0
//
// kea-lwm2m: a Kea DHCP hook library that serves LwM2M bootstrap options.
//
// Products:
//   libdhcp_lwm2m.so  the hook Kea loads (C++ shim + Swift core, Swift stdlib linked in)
//   kea-lwm2m         the operator's command: check, encode, decode, explain
//
// Targets:
//   LwM2MCore   pure Swift: parameters, store, validation, selection, wire codec,
//               the PostgreSQL store (through libpq, not through Kea)
//   CLibPQ      libpq, PostgreSQL's C client library (the one Kea links too)
//   LwM2MHook   the C ABI (CShim/include/lwm2m_core.h) implemented in Swift
//   CShim       C++ against Kea 2.2: callouts only, no policy
//   LwM2MCapture  the command's capture and DHCP option decoders (also fuzzed)
//   KeaLwM2M    the kea-lwm2m command (swift-argument-parser), on LwM2MCore
//
// With KEA_LWM2M_FUZZ=1 in the environment (scripts/fuzz.sh), the package also
// has the libFuzzer targets of Fuzz/ (docs/reliability.md, "Fuzzing").
import PackageDescription
import Foundation

/// The package's folder, for linker inputs SwiftPM does not know about.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

/// Kea's headers live in /usr/include/kea; SwiftPM defines DEBUG=1 in debug
/// builds, which clashes with Kea's `log/logger_level.h`.
let keaCxxFlags: [CXXSetting] = [
    .unsafeFlags(["-I/usr/include/kea", "-UDEBUG", "-std=c++17", "-Wall", "-Wno-deprecated-declarations"]),
]

/// The Kea libraries the shim calls into. `-z defs` makes a missing one a link
/// error instead of a dlopen failure inside kea-dhcp4.
let keaLibraries: [LinkerSetting] = [
    "kea-dhcpsrv", "kea-dhcp++", "kea-hooks", "kea-cc", "kea-asiolink",
    "kea-exceptions", "kea-log", "kea-stats", "kea-util",
].map { .linkedLibrary($0) }

let package = Package(
    name: "kea-lwm2m",
    products: [
        // The Swift half of the hook, Kea-free and built once: scripts/build-hook.sh
        // links it with the C++ shim compiled against each Kea version.
        .library(name: "lwm2m_core", type: .static, targets: ["LwM2MHook"]),
        // The operator's command (check, encode, decode, explain).
        .executable(name: "kea-lwm2m", targets: ["KeaLwM2M"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", "1.3.0"..<"2.0.0"),
    ],
    targets: [
        .target(
            name: "LwM2MCore",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                "CLibPQ",
            ]
        ),
        // libpq (libpq-dev): the store database of `store-database` and `kea-lwm2m db`.
        .systemLibrary(
            name: "CLibPQ",
            path: "Sources/CLibPQ"
        ),
        .target(
            name: "LwM2MHook",
            dependencies: ["LwM2MCore", "LwM2MABI"]
        ),
        // The seam: CShim/include/lwm2m_core.h, the only header the shim and the core share.
        .target(
            name: "LwM2MABI",
            path: "CShim/include",
            publicHeadersPath: "."
        ),
        // Captures (pcap) and DHCP options areas taken apart, for `kea-lwm2m
        // decode` and the fuzzer: every read is bounds-checked.
        .target(
            name: "LwM2MCapture",
            dependencies: ["LwM2MCore"]
        ),
        .executableTarget(
            name: "KeaLwM2M",
            dependencies: [
                "LwM2MCore",
                "LwM2MCapture",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [
                // Installed on servers without a Swift toolchain.
                .unsafeFlags(["-static-stdlib"]),
                // What the static FoundationEssentials needs besides itself.
                .linkedLibrary("_FoundationCollections"),
                .linkedLibrary("_FoundationCShims"),
            ]
        ),
        // Benchmarks (docs/performance.md, `make bench`). Not part of the hook product.
        .executableTarget(
            name: "lwm2m-bench",
            dependencies: ["LwM2MCore", "BenchMallocCounter"],
            path: "Benchmarks/lwm2m-bench"
        ),
        .target(
            name: "BenchMallocCounter",
            path: "Benchmarks/BenchMallocCounter"
        ),
        .testTarget(
            name: "LwM2MCoreTests",
            dependencies: [
                "LwM2MCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    cxxLanguageStandard: .cxx17
)

/// The libFuzzer targets (Fuzz/<Name>/main.swift), built only by
/// scripts/fuzz.sh with -sanitize=fuzzer,address: `swift build` and
/// `swift test` never see them.
if ProcessInfo.processInfo.environment["KEA_LWM2M_FUZZ"] == "1" {
    package.targets.append(.target(name: "CFuzzDriver", path: "Fuzz/Driver", publicHeadersPath: "."))
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["CFuzzDriver"], path: "Fuzz/Support"))
    let fuzzTargets: [(name: String, path: String, dependencies: [Target.Dependency])] = [
        ("fuzz-store", "Fuzz/Store", ["LwM2MCore"]),
        ("fuzz-parameters", "Fuzz/Parameters", ["LwM2MCore"]),
        ("fuzz-certificate", "Fuzz/Certificate", [
            "LwM2MCore", .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        ("fuzz-answer", "Fuzz/Answer", ["LwM2MCore", "LwM2MHook", "LwM2MABI"]),
        ("fuzz-capture", "Fuzz/Capture", ["LwM2MCore", "LwM2MCapture"]),
    ]
    for target in fuzzTargets {
        package.targets.append(.executableTarget(name: target.name, dependencies: target.dependencies + ["FuzzSupport"],
                                                 path: target.path))
    }
}
