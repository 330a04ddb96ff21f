// swift-tools-version: 6.1
import PackageDescription

/// Every Swift target gets the same language settings: explicit `any`, imports that must be
/// declared where members are used, and imports that stay internal unless marked `public`.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "media-library",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mediad", targets: ["mediad"]),
        .executable(name: "mediaq", targets: ["mediaq"]),
        .library(name: "MediaCore", targets: ["MediaCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // Native libraries, reached through pkg-config.
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(
            name: "CFFmpeg", pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // libjpeg-turbo's TurboJPEG API: lossless JPEG transcoding for the original optimiser.
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        // libvips' option API is variadic, which Swift cannot call: this C target wraps it.
        .target(name: "CMediaShim", dependencies: ["CVips"]),

        // The library's decisions and its adapters to PostgreSQL and the filesystem. It knows
        // nothing of inotify, terminals or systemd.
        .target(
            name: "MediaCore",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings,
            plugins: ["EmbedMigrations"]),
        // The client side of the decoder worker processes (`mediad --decoder-worker`): no
        // native codec linked, so `mediaq` starts without loading libvips and FFmpeg.
        .target(
            name: "MediaIsolation",
            dependencies: ["MediaCore"],
            swiftSettings: strictSettings),
        // libvips, FFmpeg and libjpeg-turbo behind small Swift types that own their handles, and
        // the worker that runs them.
        .target(
            name: "MediaCodecs",
            dependencies: [
                "MediaCore", "MediaIsolation", "CMediaShim", "CFFmpeg", "CTurboJPEG",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings),
        // sd_notify and the journal.
        .target(
            name: "SystemdSupport",
            dependencies: ["CSystemd"],
            swiftSettings: strictSettings),
        // The daemon's parts that are not the core's business: the inotify drop watcher and,
        // built on it, drop processing.
        .target(
            name: "MediaDaemon",
            dependencies: [
                "MediaCore",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings),
        // What both executables share: the command-line view of configuration, exit codes and
        // the log handler (standard error, or the journal under systemd).
        .target(
            name: "MediaCommandSupport",
            dependencies: [
                "MediaCore", "SystemdSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),

        // `mediaq serve`: the library seen, searched and curated in a browser, and its JSON API.
        // Routes and server-rendered HTML over the core's repositories; no SQL of its own.
        .target(
            name: "MediaServe",
            dependencies: [
                "MediaCore", "MediaCommandSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            resources: [.copy("Resources/openapi.json")],
            swiftSettings: strictSettings),

        .executableTarget(
            name: "mediad",
            dependencies: [
                "MediaCore", "MediaCodecs", "MediaIsolation", "MediaDaemon", "SystemdSupport", "MediaCommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strictSettings),
        .executableTarget(
            name: "mediaq",
            dependencies: [
                "MediaCore", "MediaIsolation", "MediaCommandSupport", "MediaServe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings),

        // `swift run -c release media-bench`: ingest throughput against the command-line tools.
        .executableTarget(
            name: "media-bench",
            dependencies: [
                "MediaCore", "MediaCodecs", "MediaTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strictSettings),

        // What the tests and the benchmarks share, kept out of the products: sample PNGs, a
        // seeded random generator, the process table, the receiving end of sd_notify, and the
        // in-memory reference ranking and GC planner the SQL is tested against.
        .target(name: "MediaTestSupport", dependencies: ["MediaCore"], swiftSettings: strictSettings),

        // Test helper, not a product: logs a fixed set of events for MediaCommandSupportTests.
        .executableTarget(
            name: "log-probe",
            dependencies: ["MediaCommandSupport", "MediaCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),

        // Build-time: turns migrations/*.sql into Swift so the binaries carry their schema.
        .executableTarget(name: "embed-migrations"),
        .plugin(
            name: "EmbedMigrations", capability: .buildTool(),
            dependencies: ["embed-migrations"]),

        // What the test targets share beyond MediaTestSupport: fresh databases on a real server
        // within a connection budget, `mediad` and `mediaq` as child processes, drops, a library
        // made through `mediaq`. Never linked into a product.
        .target(
            name: "MediaTestHarness",
            dependencies: [
                "MediaCore", "MediaCodecs", "MediaTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/MediaTestHarness",
            swiftSettings: strictSettings),

        // One test target per source target it exercises; the executables' targets (mediad,
        // mediaq) are tested by running the built programs.
        .testTarget(
            name: "MediaCoreTests",
            dependencies: [
                "MediaCore", "MediaCodecs", "MediaTestSupport", "MediaTestHarness",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "MediaCodecsTests",
            dependencies: ["MediaCodecs", "MediaCore", "MediaIsolation"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "MediaDaemonTests",
            dependencies: [
                "MediaDaemon", "MediaCore", "MediaCodecs", "MediaTestSupport", "MediaTestHarness",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "MediaCommandSupportTests",
            dependencies: [
                "MediaCommandSupport", "SystemdSupport", "MediaCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "MediadTests",
            dependencies: [
                "MediaCore", "MediaTestSupport", "MediaTestHarness",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "MediaServeTests",
            dependencies: [
                "MediaServe", "MediaCore", "MediaTestSupport", "MediaTestHarness",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "MediaqTests",
            dependencies: [
                "MediaCore", "MediaTestSupport", "MediaTestHarness",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strictSettings),
    ]
)
