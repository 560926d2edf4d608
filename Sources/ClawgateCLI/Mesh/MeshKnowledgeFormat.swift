import ClawgateClient
import ClawgateProtocol

/// Human-readable output of broadcasts, shared files and state documents.
extension MeshFormat {
    static func broadcasts(_ broadcasts: [JSONValue]) -> String {
        table(
            ["TIME", "FROM", "TOPIC", "TAGS", "CONTENT"],
            broadcasts.map { broadcast in
                [
                    time(broadcast["createdAtMs"]), string(broadcast["from"]), string(broadcast["topic"]), list(broadcast["tags"]),
                    short(string(broadcast["content"])),
                ]
            }
        )
    }

    static func files(_ files: [JSONValue]) -> String {
        table(
            ["KEY", "VERSION", "TYPE", "SIZE", "EDITOR", "UPDATED"],
            files.map { file in
                [
                    string(file["key"]), string(file["version"]), string(file["fileType"]), string(file["size"]),
                    string(file["lastEditor"]), time(file["updatedAtMs"]),
                ]
            }
        )
    }

    /// A state document: one header line, then its value as indented JSON.
    static func state(_ document: JSONValue) -> String {
        let header = "state \(string(document["key"])): version \(string(document["version"])), "
            + "updated by \(string(document["updatedBy"])) at \(time(document["updatedAtMs"]))"
        return header + "\n" + Output.json(document["value"] ?? .null, pretty: true)
    }
}

extension MeshAgentConnection {
    /// `call` for the versioned writes (`files.put`/`files.delete`/`state.set`): a version
    /// conflict says so in words and how to recover (`hint`); other errors are unchanged.
    func callReportingConflict<P: Encodable & Sendable>(_ method: String, _ params: P, hint: String) async throws -> JSONValue {
        do {
            return try await call(method, params)
        } catch GatewayClientError.requestFailed(let failed, let shape) where shape.detailCode == "conflict" {
            throw MeshCLIError("\(failed) failed: version conflict: \(shape.message) (\(hint))")
        }
    }
}
