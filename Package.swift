// swift-tools-version:6.1
import PackageDescription

/// Layers, bottom up: C system libraries -> thin Swift wrappers that own the C handles ->
/// pure logic (JSON, TOML, JOSE, chain, configuration) -> plugins -> server -> executables.
let package = Package(
    name: "authzd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "authzd", targets: ["authzd"]),
        .executable(name: "authzd-nginx", targets: ["authzd-nginx"]),
        .executable(name: "authzd-bench", targets: ["authzd-bench"]),
        // For the fuzz package in Fuzz/, which can only depend on products of this one.
        .library(name: "AuthzJSON", targets: ["AuthzJSON"]),
        .library(name: "AuthzTOML", targets: ["AuthzTOML"]),
        .library(name: "JOSE", targets: ["JOSE"]),
        .library(name: "AuthzServer", targets: ["AuthzServer"]),
        .library(name: "AuthzNginx", targets: ["AuthzNginx"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // C system libraries, each with a shim header for what Swift cannot call directly.
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSystemd", path: "Sources/CSystemd", pkgConfig: "libsystemd",
                       providers: [.apt(["libsystemd-dev"])]),

        // Wrappers that own the C handles; nothing above them sees a raw pointer.
        .target(name: "AuthzCrypto", dependencies: ["COpenSSL"]),
        .target(name: "AuthzFetch", dependencies: ["CCurl", "AuthzCore"]),
        .target(name: "AuthzSystemd", dependencies: [
            "CSystemd", "AuthzText",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Pure logic.
        .target(name: "AuthzText"),
        .target(name: "AuthzJSON"),
        .target(name: "AuthzTOML"),
        .target(name: "JOSE", dependencies: ["AuthzJSON", "AuthzCrypto", "AuthzText"]),
        .target(name: "AuthzCore", dependencies: [
            "AuthzJSON", "AuthzTOML", "AuthzText",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "JWTSupport", dependencies: ["AuthzCore", "JOSE", "AuthzJSON"]),

        // Chain plugins: each its own folder and target, depending only on the core and JOSE.
        .target(name: "IPAllowlistPlugin", dependencies: ["AuthzCore"], path: "plugins/IPAllowlist"),
        .target(name: "JWTHMACPlugin", dependencies: ["AuthzCore", "JOSE", "JWTSupport"],
                path: "plugins/JWTHMAC"),
        .target(name: "JWKSPlugin", dependencies: ["AuthzCore", "JOSE", "JWTSupport", "AuthzJSON"],
                path: "plugins/JWKS"),
        // The one place plugins are registered.
        .target(name: "AuthzPlugins", dependencies: ["AuthzCore", "IPAllowlistPlugin", "JWTHMACPlugin", "JWKSPlugin"]),

        // The server.
        .target(name: "AuthzServer", dependencies: [
            "AuthzCore", "AuthzJSON", "AuthzPlugins", "AuthzSystemd", "AuthzFetch", "AuthzText",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),

        // Executables.
        .executableTarget(name: "authzd", dependencies: [
            "AuthzServer", "AuthzCore", "AuthzJSON", "AuthzText", "JOSE", "AuthzCrypto", "AuthzPlugins", "AuthzSystemd",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "authzd-nginx", dependencies: [
            "AuthzNginx",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "AuthzNginx", dependencies: [
            "AuthzJSON",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "authzd-bench", dependencies: [
            "AuthzJSON",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Counts the instructions of a cache-missing signature verification (docs/performance.md).
        .executableTarget(name: "authzd-verify-bench", dependencies: ["JOSE", "AuthzCrypto", "AuthzJSON"],
                          path: "Benchmarks/VerifyBench"),
        // The shim under callgrind (Benchmarks/shim-profile.sh), started without dispatch_main.
        .executableTarget(name: "authzd-nginx-profile", dependencies: ["AuthzNginx"], path: "Benchmarks/ShimRunner"),

        // Unit tests, one target per module, and what several of them share.
        .target(name: "AuthzTestSupport", dependencies: ["AuthzJSON"], path: "Tests/AuthzTestSupport"),
        .testTarget(name: "AuthzTextTests", dependencies: ["AuthzText"]),
        .testTarget(name: "AuthzJSONTests", dependencies: ["AuthzJSON"]),
        .testTarget(name: "AuthzTOMLTests", dependencies: ["AuthzTOML"]),
        .testTarget(name: "AuthzCryptoTests", dependencies: ["AuthzCrypto", "AuthzJSON", "AuthzTestSupport"]),
        .testTarget(name: "JOSETests", dependencies: ["JOSE", "AuthzJSON", "AuthzCrypto", "AuthzTestSupport"]),
        .testTarget(name: "AuthzCoreTests", dependencies: ["AuthzCore", "AuthzTOML", "AuthzJSON", "AuthzPlugins"]),
        .testTarget(name: "PluginTests", dependencies: [
            "AuthzCore", "JOSE", "AuthzJSON", "IPAllowlistPlugin", "JWTHMACPlugin", "JWKSPlugin", "JWTSupport",
            "AuthzTOML", "AuthzFetch", "AuthzTestSupport",
        ]),
        .testTarget(name: "AuthzServerTests", dependencies: [
            "AuthzServer", "AuthzCore", "AuthzJSON",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "AuthzSystemdTests", dependencies: ["AuthzSystemd", "AuthzText"]),
        .testTarget(name: "AuthzNginxTests", dependencies: [
            "AuthzNginx", "AuthzJSON",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // End-to-end: start the built binaries against real nginx, journald and an HTTPS JWKS server.
        .testTarget(name: "EndToEndTests", dependencies: ["AuthzJSON", "JOSE", "AuthzCrypto"]),
    ]
)
