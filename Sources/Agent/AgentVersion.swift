/// The agent's version, printed by `version` and reported in metrics.
public enum AgentVersion {
    public static let current = "0.1.0"
}
