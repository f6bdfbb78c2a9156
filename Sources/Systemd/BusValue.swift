/// One property value read from a D-Bus variant; only the types systemd's unit properties use
/// here are decoded, the rest are skipped.
enum BusValue: Equatable {
    case string(String)
    case uint32(UInt32)
    case uint64(UInt64)
    case bytes([UInt8])
    case other(String)

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var uint32: UInt32? {
        if case .uint32(let value) = self { return value }
        return nil
    }

    var uint64: UInt64? {
        if case .uint64(let value) = self { return value }
        return nil
    }

    var bytes: [UInt8]? {
        if case .bytes(let value) = self { return value }
        return nil
    }
}

extension BusMessage {
    /// Reads the `a{sv}` reply of `org.freedesktop.DBus.Properties.GetAll`.
    func readPropertyMap() throws(SystemdError) -> [String: BusValue] {
        var properties: [String: BusValue] = [:]
        try enter("a", contents: "{sv}")
        while try enter("e", contents: "sv") {
            let name = try readString()
            properties[name] = try readVariant()
            try exit()
        }
        try exit()
        return properties
    }

    private func readVariant() throws(SystemdError) -> BusValue {
        guard let (_, contents) = try peek() else { return .other("") }
        switch contents {
        case "s", "o":
            try enter("v", contents: contents)
            let value = contents == "s" ? try readString() : try readObjectPath()
            try exit()
            return .string(value)
        case "u":
            try enter("v", contents: contents)
            let value = try readUInt32()
            try exit()
            return .uint32(value)
        case "t":
            try enter("v", contents: contents)
            let value = try readUInt64()
            try exit()
            return .uint64(value)
        case "ay":
            try enter("v", contents: contents)
            let value = try readBytes()
            try exit()
            return .bytes(value)
        default:
            try skip("v")
            return .other(contents)
        }
    }
}
