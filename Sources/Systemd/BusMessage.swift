internal import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Owns one `sd_bus_message` and reads or appends its arguments in D-Bus signature order.
final class BusMessage {
    private let message: OpaquePointer
    private let address: String
    private let call: String

    /// Takes over one reference to `message`.
    init(_ message: OpaquePointer, address: String, call: String) {
        self.message = message
        self.address = address
        self.call = call
    }

    /// Wraps a message owned by sd-bus (a signal in a match callback) with a new reference.
    static func borrowing(_ message: OpaquePointer, address: String, call: String) -> BusMessage {
        BusMessage(sd_bus_message_ref(message), address: address, call: call)
    }

    deinit {
        sd_bus_message_unref(message)
    }

    private func check(_ result: Int32) throws(SystemdError) {
        if result < 0 {
            throw .transportFailed(address: address, call: call, errno: -result)
        }
    }

    // MARK: Appending

    func append(_ value: String) throws(SystemdError) {
        let result = value.withCString { sd_bus_message_append_basic(message, CChar(UInt8(ascii: "s")), $0) }
        try check(result)
    }

    func append(_ values: [String]) throws(SystemdError) {
        // sd_bus_message_append_strv takes a NULL-terminated char**.
        var pointers: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        let result = pointers.withUnsafeMutableBufferPointer { sd_bus_message_append_strv(message, $0.baseAddress) }
        try check(result)
    }

    // MARK: Reading

    func readString() throws(SystemdError) -> String {
        try readText(type: "s")
    }

    func readObjectPath() throws(SystemdError) -> String {
        try readText(type: "o")
    }

    private func readText(type: Character) throws(SystemdError) -> String {
        var pointer: UnsafePointer<CChar>?
        try check(sd_bus_message_read_basic(message, CChar(type.asciiValue!), &pointer))
        return pointer.map { String(cString: $0) } ?? ""
    }

    func readUInt32() throws(SystemdError) -> UInt32 {
        var value: UInt32 = 0
        try check(sd_bus_message_read_basic(message, CChar(UInt8(ascii: "u")), &value))
        return value
    }

    func readUInt64() throws(SystemdError) -> UInt64 {
        var value: UInt64 = 0
        try check(sd_bus_message_read_basic(message, CChar(UInt8(ascii: "t")), &value))
        return value
    }

    func readBytes() throws(SystemdError) -> [UInt8] {
        var pointer: UnsafeRawPointer?
        var size = 0
        try check(sd_bus_message_read_array(message, CChar(UInt8(ascii: "y")), &pointer, &size))
        guard let pointer, size > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: size))
    }

    /// Enters a container; returns false at the end of an enclosing array.
    @discardableResult
    func enter(_ type: Character, contents: String) throws(SystemdError) -> Bool {
        let result = sd_bus_message_enter_container(message, CChar(type.asciiValue!), contents)
        try check(result)
        return result > 0
    }

    func exit() throws(SystemdError) {
        try check(sd_bus_message_exit_container(message))
    }

    func skip(_ types: String) throws(SystemdError) {
        try check(sd_bus_message_skip(message, types))
    }

    /// Returns the type and contents signature of the next value, nil at the end of a container.
    func peek() throws(SystemdError) -> (type: Character, contents: String)? {
        var type: CChar = 0
        var contents: UnsafePointer<CChar>?
        let result = sd_bus_message_peek_type(message, &type, &contents)
        try check(result)
        guard result > 0 else { return nil }
        return (Character(UnicodeScalar(UInt8(bitPattern: type))), contents.map { String(cString: $0) } ?? "")
    }
}
