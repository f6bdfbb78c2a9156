/// The spec of an authorization.k8s.io/v1 SubjectAccessReview.
public struct SubjectAccessReviewSpec: Codable, Sendable, Equatable {
    public var user: String?
    public var groups: [String]?
    public var resourceAttributes: ResourceAttributes?
    public var nonResourceAttributes: NonResourceAttributes?

    public struct ResourceAttributes: Codable, Sendable, Equatable {
        public var namespace: String?
        public var verb: String
        public var group: String?
        public var resource: String
        public var subresource: String?
        public var name: String?

        public init(namespace: String? = nil, verb: String, group: String? = "", resource: String, subresource: String? = nil, name: String? = nil) {
            self.namespace = namespace
            self.verb = verb
            self.group = group
            self.resource = resource
            self.subresource = subresource
            self.name = name
        }
    }

    public struct NonResourceAttributes: Codable, Sendable, Equatable {
        public var path: String
        public var verb: String

        public init(path: String, verb: String) {
            self.path = path
            self.verb = verb
        }
    }

    public init(user: String?, groups: [String]?, resourceAttributes: ResourceAttributes? = nil, nonResourceAttributes: NonResourceAttributes? = nil) {
        self.user = user
        self.groups = groups
        self.resourceAttributes = resourceAttributes
        self.nonResourceAttributes = nonResourceAttributes
    }
}

/// The result of a SubjectAccessReview. A denial may come with `allowed: false` alone.
public struct SubjectAccessReviewStatus: Codable, Sendable, Equatable {
    public var allowed: Bool
    public var denied: Bool?
    public var reason: String?
    public var evaluationError: String?
}

/// The result of an authentication.k8s.io/v1 TokenReview.
public struct TokenReviewStatus: Codable, Sendable, Equatable {
    public var authenticated: Bool?
    public var user: UserInfo?
    public var audiences: [String]?
    public var error: String?

    public struct UserInfo: Codable, Sendable, Equatable {
        public var username: String?
        public var uid: String?
        public var groups: [String]?
    }
}

/// The result of a TokenRequest: a service account token. Its description hides the token.
public struct ServiceAccountToken: Sendable, Equatable {
    public var token: BearerToken
    public var expirationTimestamp: String
}

extension BearerToken: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(secret)
    }
}
