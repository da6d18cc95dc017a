import Foundation

/// Reads a .safetensors file: an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the data section.
enum SafetensorsFormat {
    /// The reference implementation refuses headers over 100 MB; so do we, before allocating.
    private static let maximumHeaderBytes = 100_000_000

    /// The header length is plausible and the JSON object opens right after it.
    static func looksLikeSafetensors(_ bytes: [UInt8]) -> Bool {
        guard bytes.count > 8, bytes[8] == UInt8(ascii: "{") else { return false }
        let length = bytes.littleEndian(at: 0, byteCount: 8)
        return length >= 2 && length <= UInt64(maximumHeaderBytes)
    }

    private struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    /// The header's tensor entries; `__metadata__` (free-form strings) is skipped.
    private struct Header: Decodable {
        let entries: [String: Entry]

        private struct Key: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            var entries: [String: Entry] = [:]
            for key in container.allKeys where key.stringValue != "__metadata__" {
                entries[key.stringValue] = try container.decode(Entry.self, forKey: key)
            }
            self.entries = entries
        }
    }

    static func read(_ bytes: [UInt8], file: String) throws(CheckpointError) -> [String: Tensor] {
        let headerLength = bytes.littleEndian(at: 0, byteCount: 8)
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw .truncated(file: file, detail: "its safetensors header claims \(headerLength) bytes, but only \(bytes.count - 8) follow")
        }
        let dataStart = 8 + Int(headerLength)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[8..<dataStart]))
        } catch {
            throw .malformed(file: file, detail: "the safetensors header is not the JSON it should be (\(Self.summary(of: error)))")
        }

        let data = bytes[dataStart...]
        var ranges: [(name: String, range: Range<Int>)] = []
        var tensors: [String: Tensor] = [:]
        for (name, entry) in header.entries {
            func lie(_ detail: String) -> CheckpointError {
                .malformed(file: file, detail: "the safetensors header says tensor \(name) \(detail)")
            }
            guard let dtype = DType(safetensors: entry.dtype) else {
                throw .unsupported(file: file, detail: "tensor \(name) has safetensors dtype \(entry.dtype), which this loader does not read "
                    + "(it reads F32, F16, BF16, F64, I64, I32, U8, I8 and BOOL); convert it before saving")
            }
            guard entry.data_offsets.count == 2 else { throw lie("has \(entry.data_offsets.count) data offsets instead of 2") }
            let (begin, end) = (entry.data_offsets[0], entry.data_offsets[1])
            guard begin >= 0, begin <= end else { throw lie("has data offsets \(begin)..\(end)") }
            guard end <= data.count else {
                throw lie("lies at bytes \(begin)..<\(end), past the end of the \(data.count)-byte data section")
            }
            var count = 1
            for size in entry.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                guard size >= 0, !overflow else { throw lie("has shape \(entry.shape)") }
                count = product
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow, byteCount == end - begin else {
                throw lie("has shape \(entry.shape) of \(entry.dtype) in \(end - begin) bytes")
            }
            ranges.append((name, begin..<end))
            tensors[name] = Tensor(shape: entry.shape, dtype: dtype, bytesLittleEndian: data[(dataStart + begin)..<(dataStart + end)])
        }
        ranges.sort { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
        for (earlier, later) in zip(ranges, ranges.dropFirst()) where earlier.range.overlaps(later.range) {
            throw .malformed(file: file, detail: "the safetensors header puts tensors \(earlier.name) and \(later.name) in overlapping bytes")
        }
        return tensors
    }

    /// A decoding error in one line: the failing path and reason, not Foundation's nested dump.
    private static func summary(of error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
