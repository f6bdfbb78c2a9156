import Glibc

extension HostRoot {
    /// Reads the file at `path`, following symbolic links inside the root. Returns nil when
    /// the file or a directory on the way is missing. Throws when the file is larger than
    /// `limit` bytes or is not a regular file.
    public func read(_ path: String, limit: Int = 4 << 20) throws(HostFileError) -> [UInt8]? {
        guard let file = try openEntry(path, operation: "read") else {
            return nil
        }

        let (info, statError) = file.stat()
        guard statError == 0 else {
            throw error(.system, "read", path, errno: statError)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw error(.notRegularFile, "read", path, detail: "not a regular file")
        }

        switch file.readAll(limit: limit) {
        case .failure(let failure):
            throw error(.system, "read", path, errno: failure.code)
        case .success(let bytes):
            guard bytes.count <= limit else {
                throw error(
                    .tooLarge, "read", path,
                    detail: "the file is larger than the read limit of \(limit) bytes",
                    hint: "check that the path names the expected file"
                )
            }
            return bytes
        }
    }

    /// Compares the file at `path`, following symbolic links inside the root, with `source`:
    /// sizes first, then chunk by chunk, so memory use does not grow with the file's size.
    /// Returns nil when the file or a directory on the way is missing. Throws when it is not
    /// a regular file or cannot be read, with the errors of `read`.
    public func compare(_ path: String, with source: SourceFile) throws(HostFileError) -> Bool? {
        try compare(path, with: .file(source))
    }

    /// Like `compare(_:with:)` for bytes in memory.
    public func compare(_ path: String, with contents: [UInt8]) throws(HostFileError) -> Bool? {
        try compare(path, with: .bytes(contents))
    }

    private func compare(_ path: String, with source: WriteSource) throws(HostFileError) -> Bool? {
        guard let file = try openSourceFile(path, operation: "read") else {
            return nil
        }
        guard file.size == source.count else {
            return false
        }
        return try compare(file.file, source, path: path, operation: "read")
    }

    /// Opens the regular file at `path` for copying, following symbolic links inside the
    /// root. Returns nil when the file or a directory on the way is missing.
    func openSourceFile(_ path: String, operation: String) throws(HostFileError) -> SourceFile? {
        guard let file = try openEntry(path, operation: operation) else {
            return nil
        }
        let (info, statError) = file.stat()
        guard statError == 0 else {
            throw error(.system, operation, path, errno: statError)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw error(.notRegularFile, operation, path, detail: "not a regular file")
        }
        return SourceFile(file, info: info, path: path)
    }

    /// Returns the metadata of `path` without following a final symbolic link (a link is
    /// reported as `.symlink`), or nil when it is missing.
    public func info(_ path: String) throws(HostFileError) -> FileInfo? {
        var info = stat()
        switch try walk(path, operation: "stat", target: .entry(followSymlink: false)) {
        case .missing:
            return nil
        case .directory(let directory):
            guard fstat(directory.raw, &info) == 0 else {
                throw error(.system, "stat", path, errno: errno)
            }
        case .entry(let parent, let name):
            guard fstatat(parent.raw, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT { return nil }
                throw error(.system, "stat", path, errno: errno)
            }
        }
        return FileInfo(info)
    }

    /// Returns the target text of the symbolic link at `path`, or nil when `path` is missing
    /// or not a symbolic link.
    public func symlinkTarget(_ path: String) throws(HostFileError) -> String? {
        guard case .entry(let parent, let name) = try walk(path, operation: "readlink", target: .entry(followSymlink: false)) else {
            return nil
        }
        return readLink(parent.raw, name)
    }

    /// Lists the names in the directory `path` (without `.` and `..`), sorted, following
    /// symbolic links inside the root. Returns nil when it is missing.
    public func list(_ directory: String) throws(HostFileError) -> [String]? {
        guard case .directory(let opened) = try walk(directory, operation: "list", target: .directory(create: nil)) else {
            return nil
        }

        // fdopendir takes ownership of its descriptor, so it gets a duplicate.
        let copy = opened.duplicate()
        guard copy >= 0, let stream = fdopendir(copy) else {
            let code = errno
            if copy >= 0 { close(copy) }
            throw error(.system, "list", directory, errno: code)
        }
        defer { closedir(stream) }

        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." {
                names.append(name)
            }
        }
        return names.sorted()
    }

    /// Returns whether `path`, following symbolic links inside the root, is a regular file
    /// with an execute bit set. Any error counts as false.
    public func isExecutableFile(_ path: String) -> Bool {
        guard case .entry(let parent, let name)? = try? walk(path, operation: "stat", target: .entry(followSymlink: true)) else {
            return false
        }
        var info = stat()
        guard fstatat(parent.raw, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            return false
        }
        return FileInfo(info).isExecutableFile
    }

    /// Creates `path` and any missing directories above it, each with `mode`. Existing
    /// directories keep their mode. Symbolic links on the way are followed inside the root.
    public func createDirectories(_ path: String, mode: UInt32) throws(HostFileError) {
        guard mode <= 0o7777 else {
            throw error(.invalidPath, "create directories", path, detail: "invalid mode \(String(mode, radix: 8))")
        }
        _ = try walk(path, operation: "create directories", target: .directory(create: mode))
    }

    /// Opens the regular file or other entry at `path` read-only, following symbolic links
    /// inside the root. Returns nil when it is missing.
    func openEntry(_ path: String, operation: String) throws(HostFileError) -> FileDescriptor? {
        switch try walk(path, operation: operation, target: .entry(followSymlink: true)) {
        case .missing:
            return nil
        case .directory:
            throw error(.notRegularFile, operation, path, errno: EISDIR)
        case .entry(let parent, let name):
            // O_NONBLOCK keeps a FIFO at the path from blocking the open.
            let fd = retryingEINTR { openat(parent.raw, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0) }
            guard fd >= 0 else {
                if errno == ENOENT { return nil }
                throw error(.system, operation, path, errno: errno)
            }
            return FileDescriptor(fd)
        }
    }
}
