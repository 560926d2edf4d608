import AsyncHTTPClient
import ClawgateProtocol
import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import Synchronization

/// OpenAI chat completion requests against one base URL (the upstream itself, or the gateway),
/// and the three loads of the proxy scenario: open loop at a fixed rate (plain or streamed) and
/// closed loop with N clients.
enum ProxyLoad {
    /// Where the requests go and what they say.
    struct Endpoint: Sendable {
        /// "direct" or "gateway".
        let name: String
        let http: HTTPClient
        /// `http://host:port/v1/chat/completions`.
        let url: String
        let authorization: String?
        let plainBody: ByteBuffer
        let streamBody: ByteBuffer

        static let userMessage = "hello benchmark"
        static let expectedReply = "echo: hello benchmark"

        init(name: String, http: HTTPClient, baseURL: String, token: String?, model: String) throws {
            self.name = name
            self.http = http
            var base = baseURL
            while base.hasSuffix("/") { base.removeLast() }
            self.url = base + "/chat/completions"
            self.authorization = token.map { "Bearer \($0)" }
            func body(stream: Bool) throws -> ByteBuffer {
                var object: [String: JSONValue] = [
                    "model": .string(model), "messages": [["role": "user", "content": .string(Self.userMessage)]],
                ]
                if stream { object["stream"] = true }
                return ByteBuffer(data: try JSONCoding.encode(JSONValue.object(object)))
            }
            self.plainBody = try body(stream: false)
            self.streamBody = try body(stream: true)
        }

        private func request(stream: Bool) -> HTTPClientRequest {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            if let authorization { request.headers.add(name: "Authorization", value: authorization) }
            request.body = .bytes(stream ? streamBody : plainBody)
            return request
        }

        /// One non-stream completion; throws unless it is a 200 carrying the echo reply.
        /// Returns when the whole body has been read.
        func complete() async throws {
            let response = try await http.execute(request(stream: false), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            let text = String(buffer: body)
            guard response.status == .ok else { throw ProxyLoadError.status(Int(response.status.code), text) }
            guard text.contains(Self.expectedReply) else { throw ProxyLoadError.unexpected(text) }
        }

        /// One streamed completion: returns when the first `data:` line arrived; the rest of the
        /// stream is read to the end (`data: [DONE]`) before the call returns.
        func stream() async throws -> (firstDataNs: UInt64, endNs: UInt64) {
            let response = try await http.execute(request(stream: true), timeout: .seconds(30))
            guard response.status == .ok else {
                let body = try await response.body.collect(upTo: 1 << 20)
                throw ProxyLoadError.status(Int(response.status.code), String(buffer: body))
            }
            var firstDataNs: UInt64?
            var all = ByteBuffer()
            for try await chunk in response.body {
                var chunk = chunk
                all.writeBuffer(&chunk)
                if firstDataNs == nil, all.readableBytesView.containsBytes(Self.dataPrefix) {
                    firstDataNs = MonotonicClock.nowNs()
                }
                if all.readableBytes > 1 << 20 { throw ProxyLoadError.unexpected("stream longer than 1 MiB") }
            }
            let endNs = MonotonicClock.nowNs()
            let text = String(buffer: all)
            guard let firstDataNs else { throw ProxyLoadError.unexpected("no data: line in \(text)") }
            guard text.contains("data: [DONE]") else { throw ProxyLoadError.unexpected("stream without data: [DONE]: \(text)") }
            return (firstDataNs, endNs)
        }

        static let dataPrefix = Array("data:".utf8)
    }

    enum Kind: String, Sendable {
        /// Non-stream completions at a fixed rate.
        case latency
        /// Streamed completions at a fixed rate; the time to the first `data:` line.
        case ttfb
        /// Non-stream completions back to back from N clients.
        case throughput
    }

    /// Open loop: request i is due at start + i / rate, whether or not earlier ones have
    /// answered. Latency runs from the due time, not from when the request was actually sent,
    /// so a stall of the target (or of the load generator) shows up in the latencies instead of
    /// silently lowering the rate (no coordinated omission).
    static func openLoop(_ endpoint: Endpoint, kind: Kind, rate: Double, warmup: Double, duration: Double) async -> ProxyMeasurement {
        let recorder = OpenLoopRecorder()
        let interval = 1e9 / rate
        let warmupCount = Int((warmup * rate).rounded())
        let total = warmupCount + Int((duration * rate).rounded())
        let startNs = MonotonicClock.nowNs() + 5_000_000
        func due(_ index: Int) -> UInt64 { startNs + UInt64(Double(index) * interval) }
        let measureStartNs = due(warmupCount)
        await withDiscardingTaskGroup { group in
            var next = 0
            while next < total {
                let nowNs = MonotonicClock.nowNs()
                let nextDueNs = due(next)
                if nextDueNs > nowNs {
                    try? await Task.sleep(nanoseconds: nextDueNs - nowNs)
                    continue
                }
                // Everything that is due now (after a late wake-up, more than one).
                while next < total, due(next) <= nowNs {
                    let scheduledNs = due(next)
                    let counted = next >= warmupCount
                    next += 1
                    group.addTask {
                        let sentNs = MonotonicClock.nowNs()
                        do {
                            switch kind {
                            case .ttfb:
                                let (firstNs, endNs) = try await endpoint.stream()
                                recorder.success(scheduledNs: scheduledNs, sentNs: sentNs, markNs: firstNs, endNs: endNs, counted: counted)
                            case .latency, .throughput:
                                try await endpoint.complete()
                                let endNs = MonotonicClock.nowNs()
                                recorder.success(scheduledNs: scheduledNs, sentNs: sentNs, markNs: endNs, endNs: endNs, counted: counted)
                            }
                        } catch {
                            recorder.failure(error, endNs: MonotonicClock.nowNs(), counted: counted)
                        }
                    }
                }
            }
        }
        let state = recorder.state.withLock { $0 }
        let windowEndNs = Swift.max(due(total), state.lastEndNs)
        return ProxyMeasurement(
            kind: kind, target: endpoint.name, rate: rate, concurrency: nil,
            seconds: Double(windowEndNs &- measureStartNs) / 1e9, sent: total - warmupCount, tally: state
        )
    }

    /// Closed loop: `clients` tasks each send the next request as soon as the previous one
    /// answered, for `warmup + duration`; requests started during the warm-up are not counted.
    static func closedLoop(_ endpoint: Endpoint, clients: Int, warmup: Double, duration: Double) async -> ProxyMeasurement {
        let schedule = Schedule(startNs: MonotonicClock.nowNs(), warmup: warmup, duration: duration)
        let tallies = await withTaskGroup(of: ProxyTally.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var tally = ProxyTally()
                    while !schedule.isOver {
                        let startNs = MonotonicClock.nowNs()
                        let counted = startNs >= schedule.measureStartNs
                        do {
                            try await endpoint.complete()
                            let endNs = MonotonicClock.nowNs()
                            tally.success(scheduledNs: startNs, sentNs: startNs, markNs: endNs, endNs: endNs, counted: counted)
                        } catch {
                            tally.failure(error, endNs: MonotonicClock.nowNs(), counted: counted)
                            // A refused connection fails at once: do not spin on it.
                            try? await Task.sleep(nanoseconds: 1_000_000)
                        }
                    }
                    return tally
                }
            }
            var all: [ProxyTally] = []
            for await tally in group { all.append(tally) }
            return all
        }
        let state = ProxyTally.merged(tallies)
        let windowEndNs = Swift.max(schedule.deadlineNs, state.lastEndNs)
        return ProxyMeasurement(
            kind: .throughput, target: endpoint.name, rate: nil, concurrency: clients,
            seconds: Double(windowEndNs &- schedule.measureStartNs) / 1e9, sent: state.ok + state.errors, tally: state
        )
    }
}

enum ProxyLoadError: Error, CustomStringConvertible {
    case status(Int, String)
    case unexpected(String)

    var description: String {
        switch self {
        case .status(let code, let body): return "HTTP \(code): \(body.prefix(300))"
        case .unexpected(let body): return "unexpected answer: \(body.prefix(300))"
        }
    }
}

/// Counted requests of one measurement: latencies in microseconds.
struct ProxyTally: Sendable {
    /// Due time (open loop) or send time (closed loop) → the mark: the end of the body for
    /// non-stream requests, the first `data:` line for streamed ones.
    var latency = Tally().histogram
    /// Send time → the mark: without the load generator's own lateness.
    var service = Tally().histogram
    /// Due time → send time: how late the load generator sent (open loop).
    var sendLag = Tally().histogram
    /// Streamed: due time (open loop) → the end of the stream.
    var complete = Tally().histogram
    var ok = 0
    var errors = 0
    var errorSamples: [String] = []
    var lastEndNs: UInt64 = 0

    mutating func success(scheduledNs: UInt64, sentNs: UInt64, markNs: UInt64, endNs: UInt64, counted: Bool) {
        guard counted else { return }
        ok += 1
        _ = latency.record(Tally.micros(scheduledNs, markNs))
        _ = service.record(Tally.micros(sentNs, markNs))
        _ = sendLag.record(Tally.micros(scheduledNs, sentNs))
        _ = complete.record(Tally.micros(scheduledNs, endNs))
        lastEndNs = Swift.max(lastEndNs, endNs)
    }

    mutating func failure(_ error: any Error, endNs: UInt64, counted: Bool) {
        guard counted else { return }
        errors += 1
        if errorSamples.count < 3 { errorSamples.append(String(describing: error).prefix(300).description) }
        lastEndNs = Swift.max(lastEndNs, endNs)
    }

    static func merged(_ tallies: [ProxyTally]) -> ProxyTally {
        var total = ProxyTally()
        for tally in tallies {
            total.latency.add(tally.latency)
            total.service.add(tally.service)
            total.sendLag.add(tally.sendLag)
            total.complete.add(tally.complete)
            total.ok += tally.ok
            total.errors += tally.errors
            total.errorSamples += tally.errorSamples.prefix(Swift.max(0, 3 - total.errorSamples.count))
            total.lastEndNs = Swift.max(total.lastEndNs, tally.lastEndNs)
        }
        return total
    }
}

/// The open loop's requests finish on many tasks: one lock around one tally.
final class OpenLoopRecorder: Sendable {
    let state = Mutex(ProxyTally())

    func success(scheduledNs: UInt64, sentNs: UInt64, markNs: UInt64, endNs: UInt64, counted: Bool) {
        state.withLock { $0.success(scheduledNs: scheduledNs, sentNs: sentNs, markNs: markNs, endNs: endNs, counted: counted) }
    }

    func failure(_ error: any Error, endNs: UInt64, counted: Bool) {
        state.withLock { $0.failure(error, endNs: endNs, counted: counted) }
    }
}

/// One measurement against one target.
struct ProxyMeasurement: Sendable {
    var kind: ProxyLoad.Kind
    /// "direct" or "gateway".
    var target: String
    /// Open loop: the rate asked for (requests/s).
    var rate: Double?
    /// Closed loop: the clients.
    var concurrency: Int?
    /// From the start of the measured window to the end of the last counted request.
    var seconds: Double
    /// Requests sent in the measured window.
    var sent: Int
    var tally: ProxyTally

    /// Successful requests per second.
    var achievedRate: Double { seconds > 0 ? Double(tally.ok) / seconds : 0 }

    static func millis(_ histogram: Histogram<UInt64>, _ percentile: Double) -> Double {
        histogram.totalCount == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    func millis(_ percentile: Double) -> Double { Self.millis(tally.latency, percentile) }

    var label: String {
        switch kind {
        case .latency: return "latency \(target) @ \(Self.format(rate ?? 0)) req/s"
        case .ttfb: return "ttfb \(target) @ \(Self.format(rate ?? 0)) req/s"
        case .throughput: return "throughput \(target) (\(concurrency ?? 0) clients)"
        }
    }

    static func format(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : String(format: "%.1f", rate)
    }

    var summaryLine: String {
        func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
        var line = "proxy \(label): \(String(format: "%.1f", seconds)) s, \(tally.ok) ok, \(tally.errors) errors, "
            + "\(String(format: "%.1f", achievedRate)) req/s"
        switch kind {
        case .latency:
            line += ", p50 \(ms(millis(50))), p99 \(ms(millis(99))), max \(ms(Double(tally.latency.max) / 1000))"
            line += " (send lag p99 \(ms(Self.millis(tally.sendLag, 99))))"
        case .ttfb:
            line += ", first data p50 \(ms(millis(50))), p99 \(ms(millis(99)))"
            line += "; whole stream p50 \(ms(Self.millis(tally.complete, 50))), p99 \(ms(Self.millis(tally.complete, 99)))"
            line += " (send lag p99 \(ms(Self.millis(tally.sendLag, 99))))"
        case .throughput:
            line += ", p50 \(ms(millis(50))), p99 \(ms(millis(99)))"
        }
        if let sample = tally.errorSamples.first { line += "; first error: \(sample)" }
        return line
    }

    var json: JSONValue {
        func rounded(_ value: Double, _ digits: Double = 1000) -> JSONValue { .double((value * digits).rounded() / digits) }
        func percentiles(_ histogram: Histogram<UInt64>) -> JSONValue {
            [
                "p50": rounded(Self.millis(histogram, 50)), "p90": rounded(Self.millis(histogram, 90)),
                "p99": rounded(Self.millis(histogram, 99)), "p999": rounded(Self.millis(histogram, 99.9)),
                "max": rounded(histogram.totalCount == 0 ? 0 : Double(histogram.max) / 1000),
                "mean": rounded(histogram.totalCount == 0 ? 0 : histogram.mean / 1000),
            ]
        }
        var object: [String: JSONValue] = [
            "kind": .string(kind.rawValue), "target": .string(target), "seconds": rounded(seconds),
            "sent": .int(sent), "ok": .int(tally.ok), "errors": .int(tally.errors), "achievedRate": rounded(achievedRate, 10),
            "latencyMs": percentiles(tally.latency),
        ]
        if let rate { object["rate"] = rounded(rate, 10) }
        if let concurrency { object["concurrency"] = .int(concurrency) }
        if kind != .throughput {
            object["serviceMs"] = percentiles(tally.service)
            object["sendLagMs"] = percentiles(tally.sendLag)
        }
        if kind == .ttfb { object["wholeStreamMs"] = percentiles(tally.complete) }
        if !tally.errorSamples.isEmpty { object["errorSamples"] = .array(tally.errorSamples.map { .string($0) }) }
        return .object(object)
    }
}

extension ByteBufferView {
    func containsBytes(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return needle.isEmpty }
        var index = startIndex
        let last = endIndex - needle.count
        while index <= last {
            if self[index] == needle[0] {
                var matched = true
                for offset in 1..<needle.count where self[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return true }
            }
            index += 1
        }
        return false
    }
}
