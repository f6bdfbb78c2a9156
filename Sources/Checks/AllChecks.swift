extension Check {
    /// Every check, in report order. The CLI's `doctor` and the daemon run exactly this list.
    public static let all: [Check] = [
        .pluginExecutable,
        .providerConfig,
        .matchImages,
        .providerOverlap,
        .dropIn,
        .registriesAuth,
        .managedTwice,
    ]
}
