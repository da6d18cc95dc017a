import Foundation

/// The CSV form of history rows (RFC 4180: comma-separated, CRLF, quoted when needed), one column per fact and
/// five label/probability column groups for the top-5.
enum HistoryCSV {
    static let header: String = {
        var columns = ["id", "time", "source", "stream_id", "user", "image_sha256"]
        for rank in 1...5 {
            columns += ["top\(rank)_index", "top\(rank)_wnid", "top\(rank)_label", "top\(rank)_probability"]
        }
        columns += ["weights_name", "weights_sha256", "weights_trained", "decode_ms", "preprocess_ms", "queue_ms",
                    "inference_ms", "total_ms", "alert", "has_thumbnail"]
        return columns.joined(separator: ",") + "\r\n"
    }()

    static func line(_ entry: HistoryEntry) -> String {
        let record = entry.record
        var fields = [String(entry.id), record.time.formatted(timeStyle), text(record.source),
                      text(record.streamID ?? ""), text(record.user ?? ""), text(record.imageSHA256)]
        for rank in 0..<5 {
            if rank < record.top5.count {
                let item = record.top5[rank]
                fields += [String(item.index), text(item.wnid), text(item.label), number(item.probability)]
            } else {
                fields += ["", "", "", ""]
            }
        }
        let timings = record.timings
        fields += [text(record.weights.name), text(record.weights.sha256Prefix), record.weights.trained ? "true" : "false",
                   number(timings.decodeMilliseconds), number(timings.preprocessMilliseconds), number(timings.queueMilliseconds),
                   number(timings.inferenceMilliseconds), number(timings.totalMilliseconds), text(record.alert ?? ""),
                   entry.hasThumbnail ? "true" : "false"]
        return fields.joined(separator: ",") + "\r\n"
    }

    /// A text field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or `@` gets a `'`
    /// so spreadsheets do not run it as a formula.
    static func text(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func number(_ value: Double) -> String {
        String(format: "%.6g", value)
    }

    /// ISO 8601, UTC, milliseconds: `2026-11-25T19:00:00.000Z`.
    static let timeStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
