import AsyncHTTPClient
import Logging

/// Picks the `ModelProvider` implementation for a configured provider's API, so callers (the
/// router, the gateway) depend on the protocol only.
public enum ProviderFactory {
    /// `deadlines` bounds the drain of a finished stream's body (see `ProviderHTTP.stream`); the
    /// router passes its own, so all its providers share one sleeping task.
    public static func make(
        _ config: ProviderConfig, httpClient: ModelHTTPClients, logger: Logger, deadlines: DeadlineScheduler = DeadlineScheduler()
    ) -> any ModelProvider {
        switch config.api {
        case .openAICompletions:
            OpenAICompletionsProvider(config: config, httpClient: httpClient, logger: logger, deadlines: deadlines)
        case .openAIResponses:
            OpenAIResponsesProvider(config: config, httpClient: httpClient, logger: logger, deadlines: deadlines)
        case .anthropicMessages:
            AnthropicMessagesProvider(config: config, httpClient: httpClient, logger: logger, deadlines: deadlines)
        }
    }

    /// With one shared client.
    public static func make(
        _ config: ProviderConfig, httpClient: HTTPClient, logger: Logger, deadlines: DeadlineScheduler = DeadlineScheduler()
    ) -> any ModelProvider {
        make(config, httpClient: ModelHTTPClients(httpClient), logger: logger, deadlines: deadlines)
    }
}
