import ArgumentParser
import ClawgateClient
import ClawgateProtocol
import Foundation

struct DevicesListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List pending and paired devices.")

    @OptionGroup var client: ClientOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        do {
            let result = try await client.withConnection {
                try await $0.call("device.pair.list", EmptyParams(), as: DevicePairListResult.self)
            }
            if json {
                print(Output.json(try JSONCoding.value(of: result), pretty: false))
                return
            }
            print("Pending (\(result.pending.count)):")
            for request in result.pending {
                print("  \(request.requestId)  device \(request.deviceId.prefix(12))…  role \(request.role)  scopes \(request.scopes.joined(separator: ","))  from \(request.remoteIp ?? "?")  (\(request.reason))")
            }
            print("Paired (\(result.paired.count)):")
            for device in result.paired {
                print("  \(device.deviceId.prefix(12))…  \(device.displayName ?? device.clientId ?? "-")  roles \(device.roles.joined(separator: ","))  scopes \(device.scopes.joined(separator: ","))  approved by \(device.approvedBy)")
            }
        } catch {
            throw Output.fail("\(error)")
        }
    }
}

struct DevicesApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a pairing request.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The request id from `clawgate devices list`.") var requestId: String

    func run() async throws {
        let id = requestId
        do {
            let resolved = try await client.withConnection {
                try await $0.call("device.pair.approve", PairingDecisionParams(requestId: id), as: PairingResolved.self)
            }
            print("approved: device \(resolved.deviceId) (request \(resolved.requestId))")
        } catch {
            throw Output.fail("\(error)")
        }
    }
}

struct DevicesRejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reject", abstract: "Reject a pairing request.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The request id from `clawgate devices list`.") var requestId: String

    func run() async throws {
        let id = requestId
        do {
            let resolved = try await client.withConnection {
                try await $0.call("device.pair.reject", PairingDecisionParams(requestId: id), as: PairingResolved.self)
            }
            print("rejected: device \(resolved.deviceId) (request \(resolved.requestId))")
        } catch {
            throw Output.fail("\(error)")
        }
    }
}

struct DevicesRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a paired device (and disconnect it).")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The device id.") var deviceId: String

    func run() async throws {
        let id = deviceId
        do {
            let result = try await client.withConnection {
                try await $0.call("device.pair.remove", DeviceRemoveParams(deviceId: id), as: DeviceRemoveResult.self)
            }
            print("removed: device \(result.deviceId) (\(result.disconnected) connection(s) closed)")
        } catch {
            throw Output.fail("\(error)")
        }
    }
}
