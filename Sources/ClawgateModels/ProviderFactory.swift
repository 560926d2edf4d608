import AsyncHTTPClient
import Logging

/// Picks the `ModelProvider` implementation for a configured provider's API, so callers (the
/// router, the gateway) depend on the protocol only.
public enum ProviderFactory {
    public static func make(_ config: ProviderConfig, httpClient: HTTPClient, logger: Logger) -> any ModelProvider {
        switch config.api {
        case .openAICompletions:
            OpenAICompletionsProvider(config: config, httpClient: httpClient, logger: logger)
        case .openAIResponses:
            OpenAIResponsesProvider(config: config, httpClient: httpClient, logger: logger)
        case .anthropicMessages:
            AnthropicMessagesProvider(config: config, httpClient: httpClient, logger: logger)
        }
    }
}
