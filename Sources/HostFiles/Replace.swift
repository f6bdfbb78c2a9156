import Glibc

/// Temp files are named `.<name>.hk-<16 hex digits>.tmp`; the name part is cut so the whole
/// stays under NAME_MAX (255 bytes).
private let tempMarker = ".hk-"
private let tempSuffix = ".tmp"

private func tempPrefix(for name: String) -> String {
    "." + String(decoding: name.utf8.prefix(200), as: UTF8.self) + tempMarker
}

extension HostRoot {
    /// Replaces `name` in `parent` with the bytes of `source` through a temp file: O_EXCL
    /// create with an unpredictable name, owner and mode set, full write (a file source is
    /// copied in chunks), fsync, rename, fsync of the directory. The temp file is flocked
    /// while it is written, so a later write can tell the leftover of a killed writer (lock
    /// free) from one in progress (lock held).
    func replace(
        in parent: FileDescriptor, name: String, path: String, source: WriteSource, mode: UInt32,
        owner: (uid_t, gid_t)?, operation: String, label: Bool = true, warnings: inout [HostFileWarning]
    ) throws(HostFileError) {
        removeAbandonedTemps(in: parent, for: name)

        // 1. Create the temp file; a name collision is retried with a new random name.
        var tempName = ""
        var fd: Int32 = -1
        for _ in 0..<8 {
            tempName = tempPrefix(for: name) + String(UInt64.random(in: .min ... .max), radix: 16) + tempSuffix
            fd = retryingEINTR {
                openat(parent.raw, tempName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            }
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw error(.system, operation, path, errno: errno, detail: "cannot create a temp file in the directory")
        }
        let temp = FileDescriptor(fd)
        _ = flock(fd, LOCK_EX | LOCK_NB)

        var abandoned = false
        do throws(HostFileError) {
            // 2. Owner before mode: fchown clears set-user-ID and set-group-ID bits.
            if let (uid, gid) = owner, fchown(fd, uid, gid) != 0 {
                throw error(.system, operation, path, errno: errno, detail: "cannot set the owner of the temp file")
            }
            guard fchmod(fd, mode_t(mode)) == 0 else {
                throw error(.system, operation, path, errno: errno, detail: "cannot set the mode of the temp file")
            }

            // 3. Write everything, then make it durable before it becomes visible.
            let half = source.count / 2
            try write(source, range: 0..<half, to: temp, path: path, operation: operation)
            try checkFault(.partiallyWritten, path: path, operation: operation, abandoned: &abandoned)
            try write(source, range: half..<source.count, to: temp, path: path, operation: operation)
            if case .file(let sourceFile) = source, !sourceFile.isUnchanged() {
                throw error(
                    .sourceChanged, operation, path,
                    detail: "the source \(sourceFile.path) changed while it was copied",
                    hint: "retry once nothing writes to \(sourceFile.path)"
                )
            }
            let syncError = temp.sync()
            guard syncError == 0 else {
                throw error(.system, operation, path, errno: syncError, detail: "cannot sync the temp file")
            }
            if label {
                labelIfExecutable(temp, in: parent, mode: mode, path: path, warnings: &warnings)
            }
            try checkFault(.synced, path: path, operation: operation, abandoned: &abandoned)

            // 4. Swap it in; rename never follows a symbolic link at the target.
            guard renameat(parent.raw, tempName, parent.raw, name) == 0 else {
                throw error(.system, operation, path, errno: errno, detail: "cannot rename the temp file over the file")
            }
        } catch {
            if !abandoned {
                unlinkat(parent.raw, tempName, 0)
            }
            throw error
        }
        temp.close()

        // 5. Make the rename itself durable.
        let syncError = parent.sync()
        guard syncError == 0 else {
            throw error(
                .system, operation, path, errno: syncError,
                detail: "the new file is in place but syncing its directory failed, so it may not survive a crash"
            )
        }
    }

    private func write(
        _ source: WriteSource, range: Range<Int>, to file: FileDescriptor, path: String, operation: String
    ) throws(HostFileError) {
        switch source {
        case .bytes(let bytes):
            let writeError = bytes[range].withUnsafeBytes { file.writeAll($0) }
            guard writeError == 0 else {
                throw error(.system, operation, path, errno: writeError, detail: "cannot write the temp file")
            }
        case .file(let sourceFile):
            switch copy(sourceFile.file, range: range, to: file) {
            case .success:
                return
            case .failure(.system(let code)):
                throw error(.system, operation, path, errno: code, detail: "cannot copy \(sourceFile.path) into the temp file")
            case .failure(.endedEarly):
                throw error(
                    .sourceChanged, operation, path,
                    detail: "the source \(sourceFile.path) became shorter than \(sourceFile.size) bytes while it was copied",
                    hint: "retry once nothing writes to \(sourceFile.path)"
                )
            }
        }
    }

    private func checkFault(
        _ stage: WriteStage, path: String, operation: String, abandoned: inout Bool
    ) throws(HostFileError) {
        switch faultInjection?(stage) ?? .proceed {
        case .proceed:
            return
        case .fail(let code):
            throw error(.system, operation, path, errno: code, detail: "injected fault at \(stage)")
        case .abandon:
            abandoned = true
            throw error(.injectedFault, operation, path, detail: "write abandoned at \(stage)")
        }
    }

    /// Removes temp files for `name` left by writers that died: their flock is free. A temp
    /// file whose lock is held belongs to a write in progress and is kept.
    func removeAbandonedTemps(in parent: FileDescriptor, for name: String) {
        let prefix = tempPrefix(for: name)
        let copy = parent.duplicate()
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return
        }
        defer { closedir(stream) }

        var leftovers: [String] = []
        while let entry = readdir(stream) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if entryName.hasPrefix(prefix) && entryName.hasSuffix(tempSuffix) {
                leftovers.append(entryName)
            }
        }

        for leftover in leftovers {
            let fd = retryingEINTR { openat(parent.raw, leftover, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0) }
            guard fd >= 0 else { continue }
            let file = FileDescriptor(fd)
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                unlinkat(parent.raw, leftover, 0)
            }
            file.close()
        }
    }
}
