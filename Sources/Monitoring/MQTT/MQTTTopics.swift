/// The topics of one camera.
public struct MQTTTopics: Sendable, Equatable {
    public let camera: String
    /// `PREFIX/CAMERA/alert`: each alert, QoS 1, not retained.
    public let alert: String
    /// `PREFIX/CAMERA/state`: the stream's state, retained.
    public let state: String
    /// `PREFIX/CAMERA/availability`: `online`, or `offline` (said at the end, or by the broker as our last will).
    public let availability: String
    /// `homeassistant/sensor/resnet18_CAMERA/last_alert/config`: Home Assistant's discovery message, retained.
    public let discovery: String

    public init(prefix: String, camera: String) {
        self.camera = camera
        alert = "\(prefix)/\(camera)/alert"
        state = "\(prefix)/\(camera)/state"
        availability = "\(prefix)/\(camera)/availability"
        discovery = "homeassistant/sensor/resnet18_\(camera)/last_alert/config"
    }
}
