/// Wire protocol versions this implementation speaks.
///
/// Version 4 differs from 3 only in `hello-ok` (`pluginSurfaceUrls` replaced `canvasHostUrl`)
/// and in the missing-scope error form, so one server serves both.
public enum ProtocolVersion {
    public static let minimum = 3
    public static let maximum = 4
    public static let supported = minimum...maximum

    /// The highest version inside both the client's range and ours, or nil when they do not meet.
    public static func negotiate(clientMin: Int, clientMax: Int) -> Int? {
        guard clientMin <= clientMax else { return nil }
        let high = min(clientMax, maximum)
        let low = max(clientMin, minimum)
        return high >= low ? high : nil
    }
}
