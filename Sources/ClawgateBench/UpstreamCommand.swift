import ArgumentParser
import ClawgateUpstream
import Foundation
import UnixSignals

/// `clawgate-bench upstream`: the proxy scenario's local OpenAI-compatible upstream as its own
/// process, for proxies started outside the bench (scripts/bench-litellm.sh points LiteLLM at it).
struct UpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upstream",
        abstract: "Run the local OpenAI-compatible upstream (echo replies) until SIGINT or SIGTERM.",
        discussion: """
            POST /v1/chat/completions answers "echo: <last user message>" at once (SSE chunks with stream: true), \
            for any model and any API key. It prints "upstream listening on http://HOST:PORT/v1" when ready. \
            Requests are counted, not kept.
            """
    )

    @Option(help: "Port (default 0: any free one, printed).")
    var port = 0

    @Option(help: "Address to listen on (default 127.0.0.1).")
    var host = "127.0.0.1"

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0 to 65535") }
    }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let server = try await UpstreamServer.start(host: host, port: port, recordsRequests: false)
        // Unbuffered: whoever started this waits for the line.
        FileHandle.standardOutput.write(Data("upstream listening on \(server.openAIBaseURL)\n".utf8))
        for await signal in signals {
            note("upstream: \(signal), stopping after \(server.requestCount) requests")
            break
        }
        await server.shutdown()
    }
}
