import ClawgateProtocol
import Foundation

/// Human-readable output of mesh records. Scripts use `--json`, which prints the gateway's
/// records as they are; these tables are for people and may change.
enum MeshFormat {
    /// Left-aligned columns sized to their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                column == row.count - 1 ? row[column] : row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func string(_ value: JSONValue?, _ fallback: String = "-") -> String {
        switch value {
        case .string(let text)?: text.isEmpty ? fallback : text
        case .int(let number)?: String(number)
        case .double(let number)?: String(number)
        case .bool(let flag)?: String(flag)
        case nil, .null?: fallback
        case let other?: Output.json(other, pretty: false)
        }
    }

    static func list(_ value: JSONValue?) -> String {
        let items = value?.arrayValue?.compactMap(\.stringValue) ?? []
        return items.isEmpty ? "-" : items.joined(separator: ",")
    }

    /// Cuts long free text (descriptions, results) to one table-friendly line.
    static func short(_ text: String, _ limit: Int = 60) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count <= limit ? line : String(line.prefix(limit - 1)) + "…"
    }

    static func time(_ value: JSONValue?) -> String {
        guard let ms = value?.intValue else { return "-" }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    // MARK: records

    static func agents(_ agents: [JSONValue]) -> String {
        table(
            ["AGENT", "NAME", "STATUS", "LOAD", "CAPABILITIES", "TYPES"],
            agents.map { agent in
                [
                    string(agent["agentId"]), string(agent["name"]), string(agent["status"]),
                    "\(string(agent["activeTasks"], "0"))/\(string(agent["maxConcurrentTasks"], "?"))",
                    list(agent["capabilities"]), list(agent["agentTypes"]),
                ]
            }
        )
    }

    static func tasks(_ tasks: [JSONValue]) -> String {
        table(
            ["TASK", "STATE", "TYPE", "FROM", "ASSIGNEE", "PRIORITY", "PROGRESS"],
            tasks.map { task in
                [
                    string(task["taskId"]), string(task["state"]), string(task["type"]), string(task["from"]),
                    string(task["assignee"] ?? task["to"]), string(task["priority"]), progress(task["progress"]),
                ]
            }
        )
    }

    static func progress(_ progress: JSONValue?) -> String {
        guard let progress, !progress.isNull else { return "-" }
        let percent = progress["percentage"]?.intValue.map { "\($0)%" }
        let message = progress["message"]?.stringValue.map { short($0, 30) }
        let text = [percent, message].compactMap { $0 }.joined(separator: " ")
        return text.isEmpty ? "-" : text
    }

    /// One task in detail (`tasks get`).
    static func task(_ task: JSONValue) -> String {
        var lines = [
            "Task \(string(task["taskId"]))",
            "  state:       \(string(task["state"]))",
            "  type:        \(string(task["type"]))",
            "  from:        \(string(task["from"]))",
            "  to:          \(string(task["to"], "(by requirements: \(list(task["requirements"]?["capabilities"])))"))",
            "  assignee:    \(string(task["assignee"]))",
            "  priority:    \(string(task["priority"]))",
            "  progress:    \(progress(task["progress"]))",
            "  created:     \(time(task["createdAtMs"]))",
            "  updated:     \(time(task["updatedAtMs"]))",
        ]
        if let description = task["description"]?.stringValue, !description.isEmpty { lines.append("  description: \(description)") }
        if let deadline = task["deadlineMs"], !deadline.isNull { lines.append("  deadline:    \(time(deadline))") }
        if let context = task["context"], !context.isNull { lines.append("  context:     \(Output.json(context, pretty: false))") }
        if let result = task["result"], !result.isNull { lines.append("  result:      \(Output.json(result, pretty: false))") }
        if let error = task["error"], !error.isNull { lines.append("  error:       \(string(error))") }
        return lines.joined(separator: "\n")
    }

    /// One line per delivery: what it is about, without the full payload.
    static func deliveries(_ deliveries: [JSONValue]) -> String {
        table(
            ["DELIVERY", "KIND", "TASK", "SUMMARY"],
            deliveries.map { delivery in
                [string(delivery["deliveryId"]), string(delivery["kind"]), string(delivery["taskId"]), summary(of: delivery)]
            }
        )
    }

    static func summary(of delivery: JSONValue) -> String {
        let task = delivery["payload"] ?? .null
        switch delivery["kind"]?.stringValue {
        case "task_offer":
            let description = task["description"]?.stringValue.flatMap { $0.isEmpty ? nil : ": " + short($0, 40) } ?? ""
            return "\(string(task["type"])) from \(string(task["from"])) (\(string(task["priority"])))\(description)"
        case "task_result":
            let state = string(task["state"])
            if let error = task["error"], !error.isNull { return "\(state): \(short(string(error)))" }
            if let result = task["result"], !result.isNull { return "\(state): \(short(Output.json(result, pretty: false)))" }
            return state
        case "task_canceled":
            return "canceled by \(string(task["from"]))"
        default:
            return short(Output.json(task, pretty: false))
        }
    }

    static func events(_ events: [JSONValue]) -> String {
        table(
            ["SEQ", "TIME", "TYPE", "SUBJECT", "DETAIL"],
            events.map { event in
                let payload = event["payload"] ?? .null
                let subject = string(payload["taskId"] ?? payload["agentId"])
                var detail: [String] = []
                if let state = payload["state"]?.stringValue { detail.append(state) }
                if let assignee = payload["assignee"]?.stringValue { detail.append("assignee \(assignee)") }
                if let name = payload["name"]?.stringValue { detail.append(name) }
                return [string(event["seq"]), time(event["createdAtMs"]), string(event["type"]), subject, detail.joined(separator: ", ")]
            }
        )
    }

    /// The answer of a task transition (`accept`, `complete`, …).
    static func transition(_ verb: String, _ task: JSONValue) -> String {
        "\(verb) task \(string(task["taskId"])): now \(string(task["state"])) (type \(string(task["type"])), from \(string(task["from"])))"
    }
}
