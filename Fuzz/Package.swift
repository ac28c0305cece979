// swift-tools-version:6.1
import PackageDescription

/// Coverage-guided fuzz targets (libFuzzer) for authzd's parsers. A package of its own, so that a
/// plain `swift build` of authzd never sees `-sanitize=fuzzer`; `make fuzz` builds it in its own
/// build folder with `--sanitize fuzzer --sanitize address -Xswiftc -enable-testing`.
///
/// Each target is one executable whose only entry point is `LLVMFuzzerTestOneInput`; libFuzzer
/// supplies `main`.

func fuzzTarget(_ name: String, _ products: [String], nio: [String] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: products.map { .product(name: $0, package: "authzd") }
            + nio.map { .product(name: $0, package: "swift-nio") },
        swiftSettings: [.unsafeFlags(["-parse-as-library"])])
}

let package = Package(
    name: "authzd-fuzz",
    dependencies: [
        .package(name: "authzd", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        fuzzTarget("FuzzJSON", ["AuthzJSON"]),
        fuzzTarget("FuzzTOML", ["AuthzTOML"]),
        fuzzTarget("FuzzCompactJWS", ["JOSE", "AuthzJSON"]),
        fuzzTarget("FuzzJWKSet", ["JOSE", "AuthzJSON"]),
        fuzzTarget("FuzzLineFramer", ["AuthzServer"], nio: ["NIOCore"]),
        fuzzTarget("FuzzCheckRequest", ["AuthzNginx", "AuthzJSON"], nio: ["NIOCore", "NIOEmbedded", "NIOHTTP1"]),
        fuzzTarget("FuzzRequestPath", ["AuthzText"]),
        fuzzTarget("FuzzJavaProperties", ["AntMediaImport"]),
        fuzzTarget("FuzzIntrospectionAnswer", ["OAuth2IntrospectionPlugin", "AuthzCore", "JWTSupport", "JOSE", "AuthzJSON"]),
    ]
)
