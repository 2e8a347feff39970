// swift-tools-version:6.0
import PackageDescription

// Warnings are errors when PFS_STRICT=1 (CI sets it); local builds stay forgiving while iterating.
let strict = Context.environment["PFS_STRICT"] == "1"
let swiftSettings: [SwiftSetting] = strict ? [.unsafeFlags(["-warnings-as-errors"])] : []

let package = Package(
    name: "pfs",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pfsmount", targets: ["pfsmount"]),
        .executable(name: "pfs", targets: ["pfs"]),
        .executable(name: "pachctl", targets: ["pachctl"]),
        .library(name: "PFSCore", targets: ["PFSCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        .target(
            name: "PFSCore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PFSPipelines",
            dependencies: [
                "PFSCore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CFuse3", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        .target(
            name: "PFSFuse",
            dependencies: [
                "PFSCore", "PFSPipelines", "CFuse3",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PFSServer",
            dependencies: [
                "PFSCore", "PFSPipelines",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PFSCLI",
            dependencies: [
                "PFSCore", "PFSPipelines",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "pfsmount",
            dependencies: [
                "PFSServer", "PFSCore", "PFSFuse", "PFSPipelines",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "pfs", dependencies: ["PFSCLI"], swiftSettings: swiftSettings),
        .executableTarget(name: "pachctl", dependencies: ["PFSCLI"], swiftSettings: swiftSettings),
        .testTarget(name: "PFSCoreTests", dependencies: ["PFSCore"], swiftSettings: swiftSettings),
        .testTarget(name: "PFSPipelinesTests", dependencies: ["PFSPipelines", "PFSCore"], swiftSettings: swiftSettings),
        .testTarget(name: "PFSCLITests", dependencies: ["PFSCLI", "PFSPipelines"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
