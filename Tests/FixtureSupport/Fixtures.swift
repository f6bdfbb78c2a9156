import Foundation

/// Reads a file under Tests/Fixtures.
public func fixture(_ path: String) throws -> String {
    let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    return try String(contentsOf: tests.appendingPathComponent("Fixtures").appendingPathComponent(path), encoding: .utf8)
}

/// Lists the files under a folder of Tests/Fixtures, relative to Tests/Fixtures.
public func fixturePaths(under folder: String) throws -> [String] {
    let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    let root = tests.appendingPathComponent("Fixtures")
    let enumerator = FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path)
    var paths: [String] = []
    while let item = enumerator?.nextObject() as? String {
        var isDirectory: ObjCBool = false
        let full = root.appendingPathComponent(folder).appendingPathComponent(item).path
        if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
            !item.hasSuffix(".source.txt") {
            paths.append(folder + "/" + item)
        }
    }
    return paths.sorted()
}
