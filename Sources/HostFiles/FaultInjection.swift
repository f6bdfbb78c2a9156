/// The stages of an atomic write at which a test can inject a fault.
enum WriteStage: Sendable, Equatable {
    /// Half of the new contents is in the temp file.
    case partiallyWritten
    /// The temp file is complete and synced; the rename has not happened.
    case synced
}

/// The action a write takes at a stage.
enum FaultAction: Sendable, Equatable {
    case proceed
    /// Fail with this errno, cleaning up as on any real failure.
    case fail(Int32)
    /// Stop at once without cleaning up, leaving the disk as a process killed at this
    /// point would leave it (the temp file's lock is released as the kernel would).
    case abandon
}
