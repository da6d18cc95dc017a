/// Why an MQTT broker cannot be used, in words that say what to do.
public enum MQTTError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A `--mqtt` URL, prefix or camera name that cannot work.
    case badSetting(String)
    /// The broker answered CONNECT with a refusal (CONNACK return code 1 to 5).
    case refused(returnCode: UInt8)
    /// The broker sent something MQTT 3.1.1 does not allow.
    case protocolViolation(String)
    /// The connection ended or stayed silent.
    case connectionLost(String)

    public var description: String {
        switch self {
        case let .badSetting(message):
            message
        case let .refused(code):
            "the broker refused the connection: " + Self.words(forReturnCode: code)
        case let .protocolViolation(message):
            "the broker broke the MQTT 3.1.1 protocol: \(message)"
        case let .connectionLost(message):
            message
        }
    }

    /// CONNACK's return codes (MQTT 3.1.1, 3.2.2.3).
    static func words(forReturnCode code: UInt8) -> String {
        switch code {
        case 1: "unacceptable protocol version: the broker does not speak MQTT 3.1.1"
        case 2: "identifier rejected: the broker does not accept this client id"
        case 3: "server unavailable: the broker is up but not taking connections"
        case 4: "bad user name or password: check the user:password in the URL"
        case 5: "not authorised: wrong user name or password, or this user may not connect"
        default: "return code \(code), which MQTT 3.1.1 does not define"
        }
    }
}
