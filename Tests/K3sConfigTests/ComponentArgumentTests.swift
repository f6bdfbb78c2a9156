import FixtureSupport
import Testing
@testable import K3sConfig

@Suite("K3sComponentArguments")
struct ComponentArgumentTests {
    struct ResolveCase: Sendable, CustomStringConvertible {
        var description: String
        var defaults: [String: String]
        var items: [String]
        var expected: [String]
    }

    // Source: k3s-io/k3s pkg/util/args_test.go, Test_UnitGetArgs.
    static let upstreamCases: [ResolveCase] = [
        ResolveCase(
            description: "Default Test",
            defaults: ["aaa": "A", "bbb": "B", "ccc": "C", "ddd": "d", "eee": "e", "fff": "f", "ggg": "g", "hhh": "h"],
            items: ["bbb=BB", "ddd=DD", "iii=II"],
            expected: ["--aaa=A", "--bbb=BB", "--ccc=C", "--ddd=DD", "--eee=e", "--fff=f", "--ggg=g", "--hhh=h", "--iii=II"]
        ),
        ResolveCase(
            description: "Args with existing hyphens Test",
            defaults: ["aaa": "A", "bbb": "B", "ccc": "C", "ddd": "d", "eee": "e", "fff": "f", "ggg": "g", "hhh": "h"],
            items: ["--bbb=BB", "--ddd=DD", "--iii=II"],
            expected: ["--aaa=A", "--bbb=BB", "--ccc=C", "--ddd=DD", "--eee=e", "--fff=f", "--ggg=g", "--hhh=h", "--iii=II"]
        ),
        ResolveCase(
            description: "Multiple args with defaults Test",
            defaults: ["aaa": "A", "bbb": "B"],
            items: ["--ccc=C", "--bbb=DD", "--bbb=AA"],
            expected: ["--aaa=A", "--bbb=DD", "--bbb=AA", "--ccc=C"]
        ),
        ResolveCase(
            description: "Multiple args with defaults and prefix",
            defaults: ["aaa": "A", "bbb": "B"],
            items: ["--ccc=C", "--bbb-=DD"],
            expected: ["--aaa=A", "--bbb=DD", "--bbb=B", "--ccc=C"]
        ),
        ResolveCase(
            description: "Multiple args with defaults and suffix",
            defaults: ["aaa": "A", "bbb": "B"],
            items: ["--ccc=C", "--bbb+=DD"],
            expected: ["--aaa=A", "--bbb=B", "--bbb=DD", "--ccc=C"]
        ),
    ]

    @Test("resolve matches upstream GetArgs", arguments: upstreamCases)
    func resolve(testCase: ResolveCase) {
        #expect(K3sComponentArguments.resolve(defaults: testCase.defaults, items: testCase.items) == testCase.expected)
    }

    @Test("items parse name, value and operation", arguments: [
        ("max-pods=250", "max-pods", "250", K3sComponentArgument.Operation.set),
        ("--v=2", "v", "2", .set),
        ("feature-gates+=A=true", "feature-gates", "A=true", .append),
        ("feature-gates-=A=false", "feature-gates", "A=false", .prepend),
        ("rotate-certificates", "rotate-certificates", "true", .set),
        ("node-ip=", "node-ip", "", .set),
    ])
    func parseItem(item: String, name: String, value: String, operation: K3sComponentArgument.Operation) {
        let argument = K3sComponentArgument(parsing: item)
        #expect(argument.name == name)
        #expect(argument.value == value)
        #expect(argument.operation == operation)
    }

    @Test("feature gates from fixture 14039")
    func gatesFromFixture() throws {
        // Source: k3s-io/k3s issue 14039, /etc/rancher/k3s/config.yaml of k3s v1.33.4+k3s1.
        let path = "k3s-config/k3s-14039-config.yaml"
        let config = try K3sConfigFiles.merge(main: K3sConfigFile(name: path, text: try fixture(path)), dropIns: [])
        #expect(try config.featureGates(forKey: "kubelet-arg") == ["KubeletServiceAccountTokenForCredentialProviders": true])
        #expect(try config.featureGates(forKey: "kube-apiserver-arg").isEmpty)
        #expect(config.componentArguments(forKey: "kube-apiserver-arg").map(\.name) == [
            "service-account-issuer", "service-account-jwks-uri",
        ])
    }

    @Test("later gate values win across items")
    func laterGateWins() throws {
        let gates = try K3sComponentArguments.featureGates(
            items: ["feature-gates=A=true,B=false", "max-pods=10", "--feature-gates+= B = 1 ,C=F"], source: "config.yaml"
        )
        #expect(gates == ["A": true, "B": true, "C": false])
    }

    @Test("invalid gate value has the component's text")
    func invalidGateValue() {
        #expect {
            try K3sComponentArguments.featureGates(items: ["feature-gates=A=yes"], source: "config.yaml")
        } throws: { error in
            (error as? K3sConfigError)?.message
                == "invalid argument \"A=yes\" for \"--feature-gates\" flag: invalid value of A: yes, err: strconv.ParseBool: parsing \"yes\": invalid syntax"
        }
    }

    @Test("malformed gate pair has the component's text")
    func malformedGatePair() {
        #expect {
            try K3sComponentArguments.featureGates(items: ["feature-gates=A"], source: "config.yaml")
        } throws: { error in
            (error as? K3sConfigError)?.message
                == "invalid argument \"A\" for \"--feature-gates\" flag: malformed pair, expect string=bool"
        }
    }
}
