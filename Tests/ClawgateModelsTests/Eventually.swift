/// Polls `condition` every 5 ms for up to `seconds` (generous for a loaded machine: what the
/// tests wait for happens within milliseconds).
func eventually(seconds: Double = 3, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}
