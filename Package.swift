// swift-tools-version: 6.2
// The package builds two executables in one `swift build`:
// - credential-provider-harbor: the kubelet exec plugin, linked fully static (glibc included)
//   so it runs on any x86_64 Linux host the agent copies it to;
// - harbor-keyless: the node agent, linked with the Swift runtime statically and the C system
//   libraries (libsystemd, libcurl, libmicrohttpd) dynamically, because those libraries ship
//   no usable static archives on Debian 12. Its C++ runtime (libstdc++) is linked statically
//   too: see packaging/link/README.md.
import PackageDescription

let fullyStatic: [SwiftSetting] = [.unsafeFlags(["-static-executable"])]
let fullyStaticLink: [LinkerSetting] = [.unsafeFlags(["-static-executable"])]
let staticRuntime: [SwiftSetting] = [.unsafeFlags(["-static-stdlib"])]
let staticRuntimeLink: [LinkerSetting] = [
    .unsafeFlags(["-static-stdlib", "-L" + Context.packageDirectory + "/packaging/link/static-libstdc++"])
]
// The plugin's code stays out of _StringProcessing (the regex engine and the string
// algorithms built on it): linked statically, it adds about 1.3 MB to an executable the
// kubelet starts on every image pull. A use of its API is then a compile error.
let withoutStringProcessing: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-disable-implicit-string-processing-module-import"])
]

let package = Package(
    name: "harbor-keyless",
    products: [
        .executable(name: "credential-provider-harbor", targets: ["credential-provider-harbor"]),
        .executable(name: "harbor-keyless", targets: ["harbor-keyless"]),
    ],
    targets: [
        // C system libraries, each wrapped by exactly one Swift module.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // Thin C wrappers for variadic functions and function-like macros Swift cannot call.
        .target(name: "CShims", dependencies: ["CCurl", "CSystemd", "CMicroHTTPD"]),

        // The kubelet plugin: FoundationEssentials only.
        .target(name: "CredentialProvider", swiftSettings: withoutStringProcessing),
        .executableTarget(
            name: "credential-provider-harbor",
            dependencies: ["CredentialProvider"],
            swiftSettings: fullyStatic + withoutStringProcessing,
            linkerSettings: fullyStaticLink
        ),

        // The agent's layers, bottom to top.
        .target(name: "HostFiles", dependencies: ["CShims", "COpenSSL"]),
        // Child processes with deadlines, for running host executables (FoundationEssentials
        // has no Process).
        .target(name: "Subprocess"),
        .target(name: "YAML", dependencies: ["CYAML"]),
        .target(name: "K3sConfig", dependencies: ["YAML", "CredentialProvider"]),
        .target(name: "Systemd", dependencies: ["CSystemd", "CShims"]),
        .target(name: "KubeAPI", dependencies: ["CCurl", "COpenSSL", "CShims", "YAML"]),
        .target(
            name: "Checks",
            dependencies: ["CredentialProvider", "HostFiles", "Subprocess", "YAML", "K3sConfig", "Systemd", "KubeAPI"]
        ),
        .target(
            name: "Agent",
            dependencies: [
                "CredentialProvider", "HostFiles", "Subprocess", "YAML", "K3sConfig", "Systemd", "KubeAPI", "Checks",
                "CMicroHTTPD", "CShims",
            ]
        ),
        .executableTarget(
            name: "harbor-keyless",
            dependencies: ["Agent"],
            swiftSettings: staticRuntime,
            linkerSettings: staticRuntimeLink
        ),

        .testTarget(name: "CredentialProviderTests", dependencies: ["CredentialProvider"]),
        .testTarget(name: "HostFilesTests", dependencies: ["HostFiles", "CShims"]),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "FixtureSupport"]),
        .testTarget(name: "K3sConfigTests", dependencies: ["K3sConfig", "YAML", "FixtureSupport"]),
        .testTarget(name: "SystemdTests", dependencies: ["Systemd", "NodeTestSupport"], exclude: ["systemd_manager_standin.py"]),
        .testTarget(name: "KubeAPITests", dependencies: ["KubeAPI", "APIStandInSupport"]),
        .testTarget(name: "ChecksTests", dependencies: ["Checks", "APIStandInSupport"]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "Systemd", "NodeTestSupport"]),
        .testTarget(name: "DaemonTests", dependencies: ["Agent", "KubeAPI", "APIStandInSupport", "NodeTestSupport"]),
        // Reads the field samples under Tests/Fixtures.
        .target(name: "FixtureSupport", path: "Tests/FixtureSupport"),
        // Starts the loopback kube-apiserver stand-in (Tests/apistandin/standin.py) for tests.
        .target(name: "APIStandInSupport", dependencies: ["KubeAPI"], path: "Tests/APIStandInSupport"),
        // Boots real-systemd nodes for the tests that need them (Tests/node/node.sh).
        .target(name: "NodeTestSupport", path: "Tests/NodeTestSupport"),
    ]
)
