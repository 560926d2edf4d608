import AsyncHTTPClient
import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import NIOCore
import NIOHTTP1
import Testing

func httpRequest(_ url: String, method: HTTPMethod = .GET) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    let body = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), response.headers, String(buffer: body))
}

@Suite("HTTP surface")
struct HTTPTests {
    @Test func livenessProbes() async throws {
        try await withGateway { gw in
            for path in ["/health", "/healthz"] {
                let response = try await httpRequest(gw.httpBase + path)
                #expect(response.status == 200, "\(path)")
                #expect(response.body == #"{"ok":true,"status":"live"}"#, "\(path)")
                #expect(response.headers.first(name: "content-type") == "application/json")
                #expect(response.headers.first(name: "cache-control") == "no-store")
                #expect(response.headers.first(name: "x-content-type-options") == "nosniff")
                let head = try await httpRequest(gw.httpBase + path, method: .HEAD)
                #expect(head.status == 200)
                #expect(head.body.isEmpty)
            }
        }
    }

    @Test func readinessProbe() async throws {
        try await withGateway { gw in
            for path in ["/ready", "/readyz"] {
                let response = try await httpRequest(gw.httpBase + path)
                #expect(response.status == 200, "\(path)")
                let json = try JSONCoding.decode(JSONValue.self, from: Data(response.body.utf8))
                #expect(json["ready"] == true)
                #expect(json["failing"] == [])
                #expect(json["uptimeMs"]?.intValue != nil)
            }
        }
    }

    @Test func otherMethodsAreNotAllowed() async throws {
        try await withGateway { gw in
            for (path, method) in [("/health", HTTPMethod.POST), ("/healthz", .PUT), ("/ready", .DELETE)] {
                let response = try await httpRequest(gw.httpBase + path, method: method)
                #expect(response.status == 405, "\(method) \(path)")
                #expect(response.headers.first(name: "allow") == "GET, HEAD", "\(method) \(path)")
            }
        }
    }

    @Test func plainGetOnTheSocketPathIsNotAnUpgrade() async throws {
        try await withGateway { gw in
            let response = try await httpRequest(gw.httpBase + "/gateway")
            #expect(response.status == 404)
        }
    }

    @Test(arguments: ["/", "/gateway", "/some/other/path"])
    func webSocketUpgradeOnAnyPath(path: String) async throws {
        try await withGateway { gw in
            var options = gw.adminOptions()
            options.url = gw.url + path
            try await connect(options) { conn in
                #expect(conn.hello.type == "hello-ok")
                let health = try await conn.call("health")
                #expect(health["ok"] == true)
            }
        }
    }

    @Test func noUpgradeOnProbePaths() async throws {
        try await withGateway { gw in
            var options = gw.adminOptions()
            options.url = gw.url + "/health"
            await #expect(throws: (any Error).self) {
                try await connect(options) { _ in }
            }
        }
    }
}
