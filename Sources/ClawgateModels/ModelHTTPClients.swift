import AsyncHTTPClient
import NIOCore
import NIOPosix

/// The HTTP clients model requests go out on: one for all, or one per event loop.
///
/// With one client per loop, a request made from a task running on a loop (see `TaskAffinity`)
/// goes out on a connection of that same loop, so the upstream's answer is read on the thread
/// that is waiting for it. AsyncHTTPClient's async API can only *prefer* the caller's loop, and
/// takes an idle connection on another loop before opening one on the preferred loop, hence one
/// client (and pool) per loop.
public struct ModelHTTPClients: Sendable {
    private let byLoop: [ObjectIdentifier: HTTPClient]
    private let group: any EventLoopGroup
    /// Every client (never empty), e.g. to shut them down.
    public let all: [HTTPClient]

    /// One shared client.
    public init(_ client: HTTPClient) {
        self.byLoop = [:]
        self.group = client.eventLoopGroup
        self.all = [client]
    }

    /// One client per loop of `group`, each with `configuration`.
    public init(perLoopOf group: any EventLoopGroup, configuration: HTTPClient.Configuration) {
        var byLoop: [ObjectIdentifier: HTTPClient] = [:]
        var all: [HTTPClient] = []
        for loop in group.makeIterator() {
            let client = HTTPClient(eventLoopGroup: loop, configuration: configuration)
            byLoop[ObjectIdentifier(loop)] = client
            all.append(client)
        }
        self.byLoop = byLoop
        self.group = group
        // A group has at least one loop; the fallback only keeps `all` non-empty by construction.
        self.all = all.isEmpty ? [HTTPClient(eventLoopGroup: group, configuration: configuration)] : all
    }

    /// The client of the loop the caller runs on; from elsewhere, the next loop's (round robin).
    public var current: HTTPClient {
        guard !byLoop.isEmpty else { return all[0] }
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop, let client = byLoop[ObjectIdentifier(loop)] {
            return client
        }
        return byLoop[ObjectIdentifier(group.next())] ?? all[0]
    }

    /// Shuts every client down, also after one failed; throws the first failure.
    public func shutdown() async throws {
        var failure: (any Error)?
        for client in all {
            do { try await client.shutdown() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }
}
