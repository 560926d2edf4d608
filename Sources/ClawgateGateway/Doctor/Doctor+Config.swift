import Foundation

extension Doctor {
    struct ConfigOutcome {
        var findings: [DoctorFinding]
        /// The parsed config when it is valid (or absent: defaults).
        var config: GatewayConfig?
        /// The effective settings when the config also resolves (environment included).
        var settings: GatewaySettings?
    }

    /// Parses the config as the gateway would and locates the first error's line: for a syntax
    /// error from the decoder's position, for a schema error from the key path.
    func checkConfig() -> ConfigOutcome {
        let path = paths.configPath
        guard FileManager.default.fileExists(atPath: path) else {
            let settings = try? GatewaySettings.resolve(config: GatewayConfig(), paths: paths, environment: environment)
            return ConfigOutcome(
                findings: [DoctorFinding(check: "config", status: .ok, message: "no config file at \(path): defaults apply", path: path)],
                config: GatewayConfig(), settings: settings
            )
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return ConfigOutcome(
                findings: [DoctorFinding(check: "config", status: .problem, message: "cannot read \(path) (check its permissions)", path: path)]
            )
        }
        let text = String(decoding: data, as: UTF8.self)
        let config: GatewayConfig
        do throws(ConfigError) {
            config = try ConfigParser.parse(data: data, file: path)
        } catch {
            if error.keyPath.isEmpty, let syntax = JSON5SyntaxCheck.firstError(in: text) {
                // The decoder says only that the file is not JSON5; the check says where and why.
                let message = "not valid JSON5: \(syntax.message) (column \(syntax.column))"
                return ConfigOutcome(findings: [Self.configProblem("", message, path: path, line: syntax.line)])
            }
            let line = error.keyPath.isEmpty
                ? ConfigLocator.syntaxErrorLine(error.message, in: data)
                : ConfigLocator.line(of: error.keyPath, in: text)
            return ConfigOutcome(findings: [Self.configProblem(error.keyPath, error.message, path: path, line: line)])
        }
        do throws(GatewayStartupError) {
            let settings = try GatewaySettings.resolve(config: config, paths: paths, environment: environment)
            return ConfigOutcome(
                findings: [DoctorFinding(check: "config", status: .ok, message: "\(path) is valid", path: path)],
                config: config, settings: settings
            )
        } catch {
            // Settings errors start with the key path when they concern one key.
            let message = Self.settingsMessage(error)
            let head = message.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            let keyPath = head.contains(" ") || !head.contains(".") ? "" : head
            let line = keyPath.isEmpty ? nil : ConfigLocator.line(of: keyPath, in: text)
            let detail = keyPath.isEmpty ? message : String(message.dropFirst(head.count + 1)).trimmingCharacters(in: .whitespaces)
            return ConfigOutcome(findings: [Self.configProblem(keyPath, detail, path: path, line: line)], config: config)
        }
    }

    static func configProblem(_ keyPath: String, _ message: String, path: String, line: Int?) -> DoctorFinding {
        let location = line.map { "\(path):\($0)" } ?? path
        let text = keyPath.isEmpty ? "\(location): \(message)" : "\(location): \(keyPath): \(message)"
        return DoctorFinding(check: "config", status: .problem, message: text, path: path, line: line)
    }

    static func settingsMessage(_ error: GatewayStartupError) -> String {
        if case .configInvalid(let message) = error { return message }
        return error.description
    }
}
