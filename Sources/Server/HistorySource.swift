import HTTPTypes

/// The headers that tie requests to history rows.
enum HistorySource {
    /// Sent by the page with its uploads (`page`), so that they are recorded with source `page`.
    static let clientHeader = HTTPField.Name("X-ResNet18-Client")!
    /// Answered by `POST /predict` (whose JSON body is the seeds' bare array): the history row's id.
    static let historyIDHeader = HTTPField.Name("X-ResNet18-History-Id")!
}
