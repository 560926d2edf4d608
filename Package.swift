// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "clawgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "clawgate", targets: ["clawgate"]),
        .executable(name: "clawgate-bench", targets: ["ClawgateBench"]),
        .library(name: "ClawgateProtocol", targets: ["ClawgateProtocol"]),
        .library(name: "ClawgateClient", targets: ["ClawgateClient"]),
        .library(name: "ClawgateGateway", targets: ["ClawgateGateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Wire protocol: frames, handshake types, errors, scopes, device-auth payloads.
        // No server or transport dependency, so clients, tests and benchmarks share it.
        .target(
            name: "ClawgateProtocol",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The agent mesh domain: registry, delegation state machine, durable delivery. No
        // transport and no SQL: storage sits behind the `MeshStore` protocol.
        .target(
            name: "ClawgateMesh",
            dependencies: [
                "ClawgateProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // `MeshStore` on SQLite (GRDB, WAL) — the embedded default.
        .target(
            name: "ClawgateMeshSQLite",
            dependencies: [
                "ClawgateMesh",
                "ClawgateProtocol",
                "ClawgateSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The C API, for `sqlite3_wal_hook` (GRDB has no wrapper for it).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Small file-system utilities shared by the stateful modules (atomic replace).
        .target(
            name: "ClawgateSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // LLM providers behind the `ModelProvider` protocol (OpenAI chat completions, OpenAI
        // responses, Anthropic messages) over AsyncHTTPClient, with retries, timeouts and fallback.
        .target(
            name: "ClawgateModels",
            dependencies: [
                "ClawgateProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Hosted agents: agent config, sessions and transcripts, runs serialized per session,
        // the tool loop. No transport: the gateway exposes it over RPC and HTTP.
        .target(
            name: "ClawgateAgents",
            dependencies: [
                "ClawgateProtocol",
                "ClawgateSupport",
                "ClawgateModels",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        // A local LLM server speaking the OpenAI and Anthropic wire formats with scripted,
        // deterministic behaviour (replies, errors, hangs, tool calls): the upstream for the
        // test suites and for the proxy benchmark. Never linked into the gateway.
        .target(
            name: "ClawgateUpstream",
            dependencies: [
                "ClawgateProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The gateway server: HTTP + WebSocket on one port, auth, pairing, method table.
        .target(
            name: "ClawgateGateway",
            dependencies: [
                "ClawgateProtocol",
                "ClawgateMesh",
                "ClawgateMeshSQLite",
                "ClawgateModels",
                "ClawgateAgents",
                "ClawgateSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // Swift client library for the protocol (CLI, tests, benchmarks).
        .target(
            name: "ClawgateClient",
            dependencies: [
                "ClawgateProtocol",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command-line interface: argument parsing and output over the libraries.
        .target(
            name: "ClawgateCLI",
            dependencies: [
                "ClawgateProtocol",
                "ClawgateClient",
                "ClawgateGateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "clawgate",
            dependencies: [
                "ClawgateCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings,
            // Release builds on Linux: the Swift runtime and Foundation linked into the binary (one
            // file to deploy; needs only libc, libstdc++, libsqlite3 and libz), linked by lld with
            // relative relocations packed (DT_RELR, glibc >= 2.36) and no symbols exported. The
            // dynamic loader then reads kilobytes of relocations and symbol tables at start instead
            // of megabytes that stay resident: idle RSS 44.9 -> 36.2 MB (BENCHMARKS.md, "Startup").
            linkerSettings: [
                .unsafeFlags(
                    [
                        "-static-stdlib", "-use-ld=lld",
                        "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                        "-Xlinker", "--no-export-dynamic",
                        // What the dynamic Foundation libraries pull in themselves; the objects,
                        // compiled against them, do not name these (SwiftPM's own
                        // `--static-swift-stdlib` gets them by compiling every module again).
                        "-lCoreFoundation", "-l_FoundationCShims", "-l_FoundationCollections", "-l_FoundationICU",
                    ],
                    .when(platforms: [.linux], configuration: .release))
            ]
        ),
        // Load generator: `clawgate-bench handshake|rpc|mesh|connections|fanout|proxy|startup|soak`
        // (one subcommand per scenario of BENCHMARKS.md, latencies in an HdrHistogram) and
        // `upstream` (the local OpenAI-compatible upstream as its own process).
        .executableTarget(
            name: "ClawgateBench",
            dependencies: [
                "ClawgateProtocol",
                "ClawgateClient",
                "ClawgateUpstream",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ClawgateProtocolTests",
            dependencies: ["ClawgateProtocol"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ClawgateMeshTests",
            dependencies: [
                "ClawgateMesh", "ClawgateMeshSQLite", "ClawgateProtocol",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ClawgateModelsTests",
            dependencies: [
                "ClawgateModels", "ClawgateUpstream", "ClawgateProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Runs every `clawgate-bench` scenario in --smoke --json mode against the debug gateway,
        // so that the benchmarks cannot rot. Depends on both executables so `swift test` builds them.
        .testTarget(
            name: "ClawgateBenchTests",
            dependencies: ["ClawgateProtocol", "ClawgateBench", "clawgate"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ClawgateGatewayTests",
            dependencies: [
                "ClawgateProtocol",
                "ClawgateClient",
                "ClawgateGateway",
                "ClawgateModels",
                "ClawgateAgents",
                "ClawgateSupport",
                "ClawgateUpstream",
                "clawgate",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
