import Glibc

/// The result of `write`.
public enum WriteOutcome: Sendable, Equatable {
    /// The file did not exist and was written.
    case created
    /// The contents or the mode changed.
    case updated
    /// Contents and mode were already right; nothing was written and the mtime is kept.
    case unchanged
}

extension HostRoot {
    /// Writes `contents` to `path` with `mode`, atomically and durably: a temp file in the
    /// same directory is written, synced and renamed over the target, then the directory is
    /// synced. On any failure the previous file is left intact. Equal contents and mode
    /// write nothing; equal contents with another mode change only the mode.
    ///
    /// The directory must exist. A symbolic link at `path` is an error: replacing it would
    /// silently break the link an operator made, and writing through it would change a file
    /// other than the one named. Warnings (such as a failed SELinux label) go to
    /// `warningHandler`.
    public func write(
        _ path: String, contents: [UInt8], mode: UInt32, backups: BackupStore?
    ) throws(HostFileError) -> WriteOutcome {
        var warnings: [HostFileWarning] = []
        let outcome = try write(path, contents: contents, mode: mode, backups: backups, warnings: &warnings)
        for warning in warnings {
            warningHandler(warning)
        }
        return outcome
    }

    /// Like `write(_:contents:mode:backups:)`, but appends warnings to `warnings` instead of
    /// passing them to `warningHandler`.
    public func write(
        _ path: String, contents: [UInt8], mode: UInt32, backups: BackupStore?,
        warnings: inout [HostFileWarning]
    ) throws(HostFileError) -> WriteOutcome {
        try write(path, source: .bytes(contents), mode: mode, backups: backups, warnings: &warnings)
    }

    /// Like `write(_:contents:mode:backups:)`, with the contents of `source`: comparing,
    /// backing up and copying all go in chunks, so memory use does not grow with its size.
    /// Throws `.sourceChanged` when `source` changes while it is copied.
    public func write(
        _ path: String, from source: SourceFile, mode: UInt32, backups: BackupStore?
    ) throws(HostFileError) -> WriteOutcome {
        var warnings: [HostFileWarning] = []
        let outcome = try write(path, source: .file(source), mode: mode, backups: backups, warnings: &warnings)
        for warning in warnings {
            warningHandler(warning)
        }
        return outcome
    }

    /// Like `write(_:from:mode:backups:)`, but appends warnings to `warnings` instead of
    /// passing them to `warningHandler`.
    public func write(
        _ path: String, from source: SourceFile, mode: UInt32, backups: BackupStore?,
        warnings: inout [HostFileWarning]
    ) throws(HostFileError) -> WriteOutcome {
        try write(path, source: .file(source), mode: mode, backups: backups, warnings: &warnings)
    }

    func write(
        _ path: String, source: WriteSource, mode: UInt32, backups: BackupStore?,
        warnings: inout [HostFileWarning]
    ) throws(HostFileError) -> WriteOutcome {
        let operation = "write"
        guard mode <= 0o7777 else {
            throw error(.invalidPath, operation, path, detail: "invalid mode \(String(mode, radix: 8))")
        }
        let (parent, name) = try parentDirectory(of: path, operation: operation)

        guard let existing = try openExistingFile(parent, name, path: path, operation: operation) else {
            try backups?.recordAbsence(of: path)
            try replace(
                in: parent, name: name, path: path, source: source, mode: mode, owner: nil,
                operation: operation, warnings: &warnings
            )
            return .created
        }

        // Sizes are compared first, then chunk by chunk. The backup is copied from the open old file.
        let oldMode = UInt32(existing.info.st_mode & 0o7777)
        let old = SourceFile(existing.file, info: existing.info, path: path)
        if Int(existing.info.st_size) == source.count, try compare(existing.file, source, path: path, operation: operation) {
            if oldMode == mode {
                return .unchanged
            }

            // Same bytes, new mode: change the mode in place, which keeps the mtime.
            try backups?.record(path, from: old, mode: oldMode)
            guard fchmod(existing.file.raw, mode_t(mode)) == 0 else {
                throw error(.system, operation, path, errno: errno, detail: "cannot change the mode")
            }
            let syncError = existing.file.sync()
            guard syncError == 0 else {
                throw error(.system, operation, path, errno: syncError)
            }
            labelIfExecutable(existing.file, in: parent, mode: mode, path: path, warnings: &warnings)
            return .updated
        }

        try backups?.record(path, from: old, mode: oldMode)
        try replace(
            in: parent, name: name, path: path, source: source, mode: mode,
            owner: (existing.info.st_uid, existing.info.st_gid), operation: operation, warnings: &warnings
        )
        return .updated
    }

    /// Removes the regular file at `path`, saving it in `backups` first. Returns false when
    /// it was already absent. A symbolic link at `path` is an error, as in `write`.
    public func remove(_ path: String, backups: BackupStore?) throws(HostFileError) -> Bool {
        let operation = "remove"
        let parent: FileDescriptor
        let name: String
        switch try walk(path, operation: operation, target: .entry(followSymlink: false)) {
        case .missing:
            return false
        case .directory:
            throw error(.notRegularFile, operation, path, errno: EISDIR, detail: "remove deletes files only")
        case .entry(let directory, let entry):
            parent = directory
            name = entry
        }

        guard let existing = try openExistingFile(parent, name, path: path, operation: operation) else {
            return false
        }
        if let backups {
            let old = SourceFile(existing.file, info: existing.info, path: path)
            try backups.record(path, from: old, mode: UInt32(existing.info.st_mode & 0o7777))
        }

        guard unlinkat(parent.raw, name, 0) == 0 else {
            if errno == ENOENT { return false }
            throw error(.system, operation, path, errno: errno)
        }
        let syncError = parent.sync()
        guard syncError == 0 else {
            throw error(.system, operation, path, errno: syncError, detail: "the file is removed but syncing its directory failed")
        }
        return true
    }

    /// Resolves the directory that holds `path` and the file's name in it.
    func parentDirectory(of path: String, operation: String) throws(HostFileError) -> (FileDescriptor, String) {
        switch try walk(path, operation: operation, target: .entry(followSymlink: false)) {
        case .missing(let directory):
            throw error(
                .parentMissing, operation, path, errno: ENOENT, detail: "the directory \(directory) does not exist",
                hint: "create the directory first"
            )
        case .directory:
            throw error(.invalidPath, operation, path, errno: EISDIR, detail: "the path names a directory, not a file")
        case .entry(let parent, let name):
            return (parent, name)
        }
    }

    /// Opens the existing regular file `name`, or returns nil when there is none. Throws for
    /// a symbolic link or anything else that is not a regular file.
    func openExistingFile(
        _ parent: FileDescriptor, _ name: String, path: String, operation: String
    ) throws(HostFileError) -> (file: FileDescriptor, info: stat)? {
        var info = stat()
        guard fstatat(parent.raw, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return nil }
            throw error(.system, operation, path, errno: errno)
        }

        switch info.st_mode & S_IFMT {
        case S_IFREG:
            break
        case S_IFLNK:
            let target = readLink(parent.raw, name) ?? "?"
            throw error(
                .symlinkAtTarget, operation, path, errno: ELOOP,
                detail: "the path is a symbolic link to \(target), which harbor-keyless does not replace or write through",
                hint: "remove the link, or set the path to the link's target"
            )
        default:
            throw error(.notRegularFile, operation, path, detail: "the path exists and is not a regular file")
        }

        let fd = retryingEINTR { openat(parent.raw, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0) }
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw error(.system, operation, path, errno: errno)
        }
        let file = FileDescriptor(fd)
        let (opened, statError) = file.stat()
        guard statError == 0 else {
            throw error(.system, operation, path, errno: statError)
        }
        guard opened.st_mode & S_IFMT == S_IFREG else {
            throw error(.notRegularFile, operation, path, detail: "the path changed to something other than a regular file")
        }
        return (file, opened)
    }

    /// Returns whether `file` contains exactly the bytes of `source`, read in chunks.
    func compare(_ file: FileDescriptor, _ source: WriteSource, path: String, operation: String) throws(HostFileError) -> Bool {
        switch contentsEqual(file, source) {
        case .success(let equal): return equal
        case .failure(let failure): throw error(.system, operation, path, errno: failure.code)
        }
    }

    func labelIfExecutable(
        _ file: FileDescriptor, in parent: FileDescriptor, mode: UInt32, path: String,
        warnings: inout [HostFileWarning]
    ) {
        guard labelsExecutablesForSELinux, mode & 0o111 != 0 else {
            return
        }
        if let reason = SELinux.copyLabel(from: parent, to: file) {
            warnings.append(HostFileWarning(
                path: path,
                message: "could not label \(resolvedHostPath(path)) for SELinux (\(reason)); run `restorecon -v \(path)` on the host so the kubelet may execute it"
            ))
        }
    }
}
