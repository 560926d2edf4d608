import ArgumentParser
import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation

/// `clawgate gateway status`: is a gateway there, and does it answer RPC? With `--deep`, also
/// its readiness and counts, and other gateways on this machine.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Probe the gateway (connect handshake; with --require-rpc also a read RPC; with --deep also look for duplicate gateways)."
    )

    @OptionGroup var client: ClientOptions
    @Flag(name: .customLong("require-rpc"), help: "Also call `status` (read scope) and fail if it does not answer.")
    var requireRPC = false
    @Flag(help: "Also report readiness and counts, and warn about other gateways on nearby ports or in other state dirs.")
    var deep = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let url = (try? client.resolve().options.url) ?? client.url ?? "?"
        let wantsStatus = requireRPC || deep
        var failure: (any Error)?
        var hello: HelloOk?
        var status: JSONValue?
        do {
            (hello, status) = try await client.withConnection { connection -> (HelloOk, JSONValue?) in
                let status = wantsStatus ? try await connection.call("status") : nil
                return (connection.hello, status)
            }
        } catch {
            failure = error
        }
        let duplicates = deep ? await scanForDuplicates(url: url) : []
        if json {
            var object: [String: JSONValue] = ["url": .string(url), "reachable": .bool(hello != nil)]
            if let hello {
                object["protocol"] = .int(hello.protocol)
                object["server"] = ["version": .string(hello.server.version), "connId": .string(hello.server.connId)]
                object["scopes"] = .array((hello.auth?.scopes ?? []).map { .string($0) })
            }
            if let status { object["rpc"] = ["ok": true, "status": status] }
            if let failure { object["error"] = .string("\(failure)") }
            if deep { object["duplicates"] = (try? JSONCoding.value(of: duplicates)) ?? .array([]) }
            print(Output.json(.object(object), pretty: false))
        } else {
            print("Gateway: \(url)")
            if let hello {
                print("Runtime: running (server \(hello.server.version), protocol \(hello.protocol), uptime \((hello.snapshot.uptimeMs) / 1000)s)")
                print("Connectivity probe: ok")
            } else {
                print("Connectivity probe: failed")
                if requireRPC { print("RPC probe: failed") }
            }
            if let status { printStatus(status) }
            for duplicate in duplicates {
                var line = "warning: another gateway at \(duplicate.url)"
                if let stateDir = duplicate.stateDir { line += " (state dir \(stateDir)" + (duplicate.pid.map { ", pid \($0))" } ?? ")") }
                print(line + ": clients may reach the wrong one")
            }
            if deep && duplicates.isEmpty { print("Duplicates: none found (nearby ports and known state dirs)") }
        }
        if let failure { throw Output.fail("\(failure)") }
    }

    private func printStatus(_ status: JSONValue) {
        let gateway = status["gateway"]
        let connections = gateway?["connections"]?["total"]?.intValue ?? 0
        print("RPC probe: ok (status: \(connections) connection(s), auth \(gateway?["authMode"]?.stringValue ?? "?"))")
        guard deep else { return }
        if let readiness = gateway?["readiness"] {
            let failing = (readiness["failing"]?.arrayValue ?? []).compactMap(\.stringValue)
            print("Readiness: " + (readiness["ready"]?.boolValue == true ? "ready" : "not ready (failing: \(failing.joined(separator: ", ")))"))
        }
        if let agents = gateway?["agents"] {
            let mesh = agents["mesh"]
            print(
                "Agents: \(agents["hosted"]?.intValue ?? 0) hosted; mesh \(mesh?["total"]?.intValue ?? 0) registered, "
                    + "\(mesh?["online"]?.intValue ?? 0) online, \(mesh?["stale"]?.intValue ?? 0) stale, \(mesh?["connected"]?.intValue ?? 0) connected"
            )
        }
        if let mesh = gateway?["mesh"], let tasks = mesh["tasks"]?.objectValue {
            let counts = tasks.keys.sorted().compactMap { key in tasks[key]?.intValue.flatMap { $0 > 0 ? "\(key) \($0)" : nil } }
            print("Mesh tasks: \(counts.isEmpty ? "none" : counts.joined(separator: ", ")); dead letters \(mesh["deadLetters"]?.intValue ?? 0)")
        }
        print("Sessions: \(status["sessions"]?["count"]?.intValue ?? 0)")
    }

    /// Other gateways on this machine: nearby loopback ports and known state dirs.
    private func scanForDuplicates(url: String) async -> [GatewayScanner.Sighting] {
        let environment = ProcessInfo.processInfo.environment
        let port = URL(string: url)?.port ?? GatewaySettings.defaultPort
        let host = URL(string: url)?.host ?? "127.0.0.1"
        let local = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
        return await GatewayScanner.scan(
            aroundPort: port, excludingPort: local ? port : nil, currentStateDir: GatewayPaths.resolve(environment: environment).stateDir,
            environment: environment
        )
    }
}

/// `clawgate gateway health`: the `health` RPC.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "health", abstract: "Call the `health` RPC.")

    @OptionGroup var client: ClientOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        do {
            let health = try await client.withConnection { try await $0.call("health") }
            if json {
                print(Output.json(health, pretty: false))
            } else {
                let ok = health["ok"]?.boolValue == true
                print("Health: \(ok ? "ok" : "not ok")")
                print("Default agent: \(health["defaultAgentId"]?.stringValue ?? "-")")
                print("Sessions: \(health["sessions"]?["count"]?.intValue ?? 0)")
            }
        } catch {
            throw Output.fail("\(error)")
        }
    }
}

/// `clawgate gateway probe`: the configured gateway and the local default port, side by side.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Probe the configured gateway and localhost; warn about several reachable gateways."
    )

    @OptionGroup var client: ClientOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let primary = try client.resolve()
        var targets = [primary.options.url]
        let local = "ws://127.0.0.1:\(GatewaySettings.defaultPort)"
        if !targets.contains(local) { targets.append(local) }
        var results: [JSONValue] = []
        var reachable = 0
        for target in targets {
            var options = primary.options
            options.url = target
            let started = ContinuousClock.now
            let probeOptions = options
            do {
                let hello = try await GatewayClient.withTimeout(.milliseconds(client.timeout), "probe \(target)") {
                    try await GatewayClient.withConnection(probeOptions) { $0.hello }
                }
                let elapsed = ContinuousClock.now - started
                reachable += 1
                results.append([
                    "url": .string(target), "reachable": true, "protocol": .int(hello.protocol),
                    "version": .string(hello.server.version),
                    "latencyMs": .double(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000),
                ])
            } catch {
                results.append(["url": .string(target), "reachable": false, "error": .string("\(error)")])
            }
        }
        if json {
            print(Output.json(["targets": .array(results), "reachable": .int(reachable)], pretty: false))
        } else {
            for result in results {
                let url = result["url"]?.stringValue ?? "?"
                if result["reachable"]?.boolValue == true {
                    print("\(url): reachable (protocol \(result["protocol"]?.intValue ?? 0), server \(result["version"]?.stringValue ?? "?"))")
                } else {
                    print("\(url): unreachable (\(result["error"]?.stringValue ?? "?"))")
                }
            }
            if reachable > 1 { print("warning: \(reachable) gateways are reachable; clients may talk to the wrong one") }
        }
        if reachable == 0 { throw ExitCode(1) }
    }
}

/// `clawgate gateway call <method> --params '<json>'`: a raw RPC.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "call", abstract: "Call any gateway method.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "Method name, e.g. health.") var method: String
    @Option(help: "Params as a JSON object.") var params: String?
    @Flag(help: "Print compact JSON.") var json = false

    func run() async throws {
        var parsed: JSONValue?
        if let params {
            do {
                parsed = try JSONCoding.decode(JSONValue.self, from: Data(params.utf8))
            } catch {
                throw Output.fail("--params is not valid JSON: \(JSONCoding.describe(error))")
            }
        }
        let method = self.method
        let callParams = parsed
        do {
            let result = try await client.withConnection { try await $0.call(method, params: callParams) }
            print(Output.json(result, pretty: !json))
        } catch {
            throw Output.fail("\(error)")
        }
    }
}
