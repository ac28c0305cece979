// swift-tools-version:6.1
import PackageDescription

/// Layers, bottom up (README "Layout of the code" draws the graph): modules with no dependencies
/// (AuthzText, AuthzIO, AuthzJSON, AuthzTOML) and the C system libraries -> thin Swift wrappers
/// that own the C handles (AuthzCrypto, AuthzFetch, AuthzSystemd) -> JOSE and AuthzCore (chain,
/// configuration, remote sources) -> what builds on the core (JWTSupport, AuthzWire, AuthzMetrics,
/// AntMediaImport) -> plugins -> server and shim -> executables. No module depends on one above it:
/// AuthzFetch implements AuthzIO's HTTPFetcher without knowing the core, and only the authzd
/// executable joins the fetcher to the plugins.
let package = Package(
    name: "authzd",
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
        .library(name: "AuthzWire", targets: ["AuthzWire"]),
        .library(name: "AuthzText", targets: ["AuthzText"]),
        .library(name: "AuthzCore", targets: ["AuthzCore"]),
        .library(name: "JWTSupport", targets: ["JWTSupport"]),
        .library(name: "AntMediaImport", targets: ["AntMediaImport"]),
        .library(name: "OAuth2IntrospectionPlugin", targets: ["OAuth2IntrospectionPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
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
        .target(name: "AuthzFetch", dependencies: ["CCurl", "AuthzIO", "AuthzText"]),
        .target(name: "AuthzSystemd", dependencies: [
            "CSystemd", "AuthzText",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Pure logic.
        .target(name: "AuthzText"),
        // The HTTP fetch contract (HTTPFetcher and its request, response and error) and bounded
        // file reads: below both AuthzFetch, which implements the one, and AuthzCore, whose plugin
        // API uses it (AuthzCore re-exports it, so plugins and the server need no extra import).
        .target(name: "AuthzIO"),
        .target(name: "AuthzJSON"),
        .target(name: "AuthzTOML"),
        .target(name: "JOSE", dependencies: ["AuthzJSON", "AuthzCrypto", "AuthzText"]),
        .target(name: "AuthzCore", dependencies: [
            "AuthzIO", "AuthzJSON", "AuthzTOML", "AuthzText",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "JWTSupport", dependencies: ["AuthzCore", "JOSE", "AuthzJSON", "AuthzText"]),
        // `authzd import antmedia`: Ant Media app settings -> app files, checked by the real plugins.
        .target(name: "AntMediaImport", dependencies: [
            "AuthzCore", "AuthzTOML", "AuthzText", .product(name: "Logging", package: "swift-log"),
        ]),
        // The wire protocol (SPEC §3), both directions, for the daemon and every client.
        .target(name: "AuthzWire", dependencies: [
            "AuthzCore", "AuthzJSON",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),

        // Chain plugins: each its own folder and target, depending only on the core, JWTSupport,
        // JOSE and AuthzCrypto (never on AuthzFetch: the fetcher comes in the PluginContext).
        .target(name: "IPAllowlistPlugin", dependencies: ["AuthzCore", "AuthzText"], path: "plugins/IPAllowlist"),
        .target(name: "JWTHMACPlugin", dependencies: ["AuthzCore", "AuthzCrypto", "JOSE", "JWTSupport"],
                path: "plugins/JWTHMAC"),
        .target(name: "JWKSPlugin", dependencies: [
            "AuthzCore", "JOSE", "JWTSupport", "AuthzJSON", .product(name: "Logging", package: "swift-log"),
        ], path: "plugins/JWKS"),
        .target(name: "OAuth2IntrospectionPlugin", dependencies: [
            "AuthzCore", "JOSE", "JWTSupport", "AuthzJSON", "AuthzCrypto",
            .product(name: "Logging", package: "swift-log"),
        ], path: "plugins/OAuth2Introspection"),
        // The one place plugins are registered.
        .target(name: "AuthzPlugins", dependencies: [
            "AuthzCore", "IPAllowlistPlugin", "JWTHMACPlugin", "JWKSPlugin", "OAuth2IntrospectionPlugin",
        ]),

        // Prometheus metrics: names, label bounding, and the small HTTP server for GET /metrics.
        .target(name: "AuthzMetrics", dependencies: [
            "AuthzCore",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The server: its services (socket, reload, systemd reports) and how they are composed.
        // Which plugins and which fetcher it runs with are the executable's choice.
        .target(name: "AuthzServer", dependencies: [
            "AuthzCore", "AuthzJSON", "AuthzSystemd", "AuthzText", "AuthzWire", "AuthzMetrics", "JWTSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),

        // Executables.
        .executableTarget(name: "authzd", dependencies: [
            "AuthzServer", "AuthzCore", "AuthzJSON", "AuthzText", "JOSE", "AuthzCrypto", "AuthzPlugins", "AuthzSystemd",
            "AuthzFetch", "AntMediaImport", "AuthzTOML", "AuthzWire",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "authzd-nginx", dependencies: [
            "AuthzNginx", "AuthzCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "AuthzNginx", dependencies: [
            "AuthzJSON", "AuthzWire", "AuthzMetrics", "AuthzCore", "AuthzText",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "authzd-bench", dependencies: [
            "AuthzJSON", "AuthzWire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Counts the instructions of a cache-missing signature verification (docs/performance.md).
        .executableTarget(name: "authzd-verify-bench", dependencies: ["JOSE", "AuthzCrypto", "AuthzJSON"],
                          path: "Benchmarks/VerifyBench"),
        // The shim under callgrind (Benchmarks/shim-profile.sh), started without dispatch_main.
        .executableTarget(name: "authzd-nginx-profile", dependencies: [
            "AuthzNginx", .product(name: "Logging", package: "swift-log"),
        ], path: "Benchmarks/ShimRunner"),

        // Unit tests, one target per module, and what several of them share.
        .target(name: "AuthzTestSupport", dependencies: ["AuthzJSON"], path: "Tests/AuthzTestSupport"),
        .testTarget(name: "AuthzTextTests", dependencies: ["AuthzText"]),
        .testTarget(name: "AuthzJSONTests", dependencies: ["AuthzJSON"]),
        .testTarget(name: "AuthzTOMLTests", dependencies: ["AuthzTOML"]),
        .testTarget(name: "AuthzCryptoTests", dependencies: ["AuthzCrypto", "AuthzJSON", "AuthzTestSupport"]),
        .testTarget(name: "JOSETests", dependencies: ["JOSE", "AuthzJSON", "AuthzCrypto", "AuthzTestSupport"]),
        .testTarget(name: "AuthzCoreTests", dependencies: ["AuthzCore", "AuthzTOML", "AuthzJSON", "AuthzPlugins", "AuthzText"]),
        .testTarget(name: "AuthzWireTests", dependencies: [
            "AuthzWire", "AuthzCore", "AuthzJSON",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "PluginTests", dependencies: [
            "AuthzCore", "JOSE", "AuthzJSON", "IPAllowlistPlugin", "JWTHMACPlugin", "JWKSPlugin", "JWTSupport",
            "OAuth2IntrospectionPlugin", "AuthzCrypto",
            "AuthzTOML", "AuthzFetch", "AuthzTestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "AuthzServerTests", dependencies: [
            "AuthzServer", "AuthzCore", "AuthzJSON", "AuthzPlugins", "AuthzSystemd", "AuthzWire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "AntMediaImportTests", dependencies: ["AntMediaImport", "AuthzCore", "AuthzPlugins", "AuthzTOML"]),
        .testTarget(name: "AuthzMetricsTests", dependencies: [
            "AuthzMetrics", "AuthzCore",
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "AuthzSystemdTests", dependencies: [
            "AuthzSystemd", "AuthzText", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "AuthzNginxTests", dependencies: [
            "AuthzNginx", "AuthzJSON", "AuthzWire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // End-to-end: start the built binaries against real nginx, journald and an HTTPS JWKS server.
        .testTarget(name: "EndToEndTests", dependencies: ["AuthzJSON", "JOSE", "AuthzCrypto", "AuthzText"]),
    ]
)
