/// Where the running config came from: the file as it was read at startup and the resolver
/// (flags and environment of the process) that turned it into settings. Reloads reuse both.
public struct ConfigSource: Sendable {
    public var resolver: SettingsResolver
    /// The config file as read for the settings the gateway starts with.
    public var document: ConfigDocument

    public init(resolver: SettingsResolver, document: ConfigDocument) {
        self.resolver = resolver
        self.document = document
    }

    /// Reads the active config file (`resolver.paths.configPath`) and resolves its settings:
    /// what `clawgate gateway run` does at startup. Errors name the file and the key path.
    public static func load(resolver: SettingsResolver) throws -> (source: ConfigSource, settings: GatewaySettings, generatedToken: Bool) {
        let document = try ConfigDocument.read(path: resolver.paths.configPath)
        let config = try ConfigParser.parse(tree: try document.tree(), file: document.path)
        let (settings, generated) = try resolver.resolve(config)
        return (ConfigSource(resolver: resolver, document: document), settings, generated)
    }
}
