import ArgumentParser
import Foundation

/// The connection flags of `clawgate agent`, which cannot take `ClientOptions` as an option group:
/// there `--timeout` is the request timeout in milliseconds, while `agent --timeout` is the run's
/// limit in seconds (as in OpenClaw). The same `--url`, `--token` and `--password`, resolved
/// through `ClientOptions` (flags, environment, config, state dir) with its default request timeout.
struct AgentConnectionOptions: ParsableArguments {
    @Option(help: "Gateway URL (default: from config, else ws://127.0.0.1:<port>).")
    var url: String?

    @Option(help: "Shared token (default: OPENCLAW_GATEWAY_TOKEN, config, or the local generated token).")
    var token: String?

    @Option(help: "Shared password (default: OPENCLAW_GATEWAY_PASSWORD or config).")
    var password: String?

    /// These flags as `ClientOptions` (connect and request timeouts at its default).
    func clientOptions() throws -> ClientOptions {
        var arguments: [String] = []
        // `--name=value`, so a value starting with "-" stays a value.
        if let url { arguments.append("--url=\(url)") }
        if let token { arguments.append("--token=\(token)") }
        if let password { arguments.append("--password=\(password)") }
        return try ClientOptions.parse(arguments)
    }
}
