// How long the kubelet may reuse the credentials of one response (`cacheDuration`).

/// The `cacheDuration` policy for a response carrying a service account token.
public enum CacheDuration {
    /// Time cut from the token's remaining lifetime. Harbor checks `exp` with its own clock,
    /// and the kubelet may start a pull with cached credentials at the very end of the cache
    /// period. Five minutes covers clock skew between an NTP-synced node and Harbor (normally
    /// well under a second, tens of seconds on a badly drifting VM) plus the time a slow pull
    /// takes to reach Harbor's token service, while still leaving most of a typical token
    /// lifetime (the kubelet asks for tokens of an hour or more) cached.
    public static let clockSkewMargin = 5 * 60

    /// Upper bound, so a long-lived token is still re-read from the kubelet at least hourly.
    public static let maximum = 60 * 60

    /// Returns the seconds the kubelet may cache a token expiring at `expiresAt` (Unix
    /// seconds), seen at `now`: the remaining lifetime minus `clockSkewMargin`, at most
    /// `maximum`, and 0 (do not cache) when the expiry is unknown or the result not positive.
    public static func seconds(expiresAt: Int?, now: Int) -> Int {
        guard let expiresAt else { return 0 }
        let (remaining, overflow) = expiresAt.subtractingReportingOverflow(now)
        // Overflow only happens for expiries near Int's limits: far past or far future.
        if overflow { return expiresAt > now ? maximum : 0 }
        let usable = remaining - min(remaining, clockSkewMargin)
        return min(max(usable, 0), maximum)
    }

    /// Formats whole seconds as Go's `time.Duration.String` does ("0s", "45s", "59m30s",
    /// "1h0m0s"), the form the kubelet's `metav1.Duration` parses.
    public static func goDuration(seconds: Int) -> String {
        guard seconds != 0 else { return "0s" }
        let sign = seconds < 0 ? "-" : ""
        let magnitude = seconds.magnitude
        let hours = magnitude / 3600
        let minutes = magnitude % 3600 / 60
        let rest = magnitude % 60
        if hours > 0 { return "\(sign)\(hours)h\(minutes)m\(rest)s" }
        if minutes > 0 { return "\(sign)\(minutes)m\(rest)s" }
        return "\(sign)\(rest)s"
    }
}
