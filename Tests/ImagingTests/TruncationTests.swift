import Foundation
import Imaging
import Testing
import TestSupport

/// A file cut short or damaged is refused, as Pillow refuses it ("Truncated File Read", "image file is truncated",
/// "cannot identify image file"): a monitoring user must never get a confident label for half an image.
@Suite struct TruncationTests {
    static func photo(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Fixtures.images.appendingPathComponent(name)))
    }

    static func corruptMessage(_ bytes: [UInt8]) -> String? {
        do {
            _ = try ImageDecoder.decode(bytes)
            return nil
        } catch {
            guard case .corrupt = error else { return "not refused as corrupt: \(error)" }
            return error.description
        }
    }

    /// Cut points Pillow refuses for every one of these files: inside the headers, in the scan, and just before
    /// the end-of-image marker.
    static func cuts(of count: Int) -> [Int] { [600, count / 4, count / 2, count * 9 / 10, count - 2] }

    @Test("a JPEG cut anywhere, even only its end-of-image marker, is corrupt: premature end of data",
          arguments: ["chelsea-q90.jpg", "rocket.jpg"])
    func truncatedJPEG(name: String) throws {
        let whole = try Self.photo(name)
        #expect(Self.corruptMessage(whole) == nil)
        for cut in Self.cuts(of: whole.count) {
            let message = Self.corruptMessage(Array(whole.prefix(cut)))
            #expect(message?.contains("premature end of data") == true, "cut at \(cut) of \(whole.count): \(message ?? "decoded")")
        }
    }

    @Test("a PNG cut in its headers or image data is corrupt: premature end of data")
    func truncatedPNG() throws {
        let whole = try Self.photo("chelsea.png")
        for cut in [600, whole.count / 4, whole.count / 2, whole.count * 9 / 10] {
            let message = Self.corruptMessage(Array(whole.prefix(cut)))
            #expect(message?.contains("premature end of data") == true, "cut at \(cut): \(message ?? "decoded")")
        }
    }

    @Test("a WebP cut short is corrupt")
    func truncatedWebP() throws {
        let whole = [UInt8](try Data(contentsOf: Fixtures.projectRoot.appendingPathComponent("tests/hostile/photo.webp")))
        for cut in [40, whole.count / 2, whole.count - 1] {
            let message = Self.corruptMessage(Array(whole.prefix(cut)))
            #expect(message != nil && message?.hasPrefix("not refused") == false, "cut at \(cut): \(message ?? "decoded")")
        }
    }

    /// The PNG's chunks, with `extra` inserted before the first chunk after IHDR.
    static func png(inserting extra: [UInt8]) throws -> [UInt8] {
        let whole = try photo("chelsea.png")
        let afterIHDR = 8 + 8 + 13 + 4
        return Array(whole[..<afterIHDR]) + extra + Array(whole[afterIHDR...])
    }

    static func chunk(type: [UInt8], data: [UInt8], crc: UInt32) -> [UInt8] {
        let length = UInt32(data.count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + type + data + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
    }

    @Test("a PNG whose ancillary chunk has a wrong CRC, or a broken chunk type, is corrupt, naming the problem")
    func damagedAncillaryChunk() throws {
        let text = Array("Comment\u{0}hello".utf8)
        let badCRC = try Self.png(inserting: Self.chunk(type: Array("tEXt".utf8), data: text, crc: 0xDEAD_BEEF))
        let badCRCMessage = Self.corruptMessage(badCRC)
        #expect(badCRCMessage?.lowercased().contains("checksum") == true, "\(badCRCMessage ?? "decoded")")
        let badType = try Self.png(inserting: Self.chunk(type: [0x74, 0x01, 0x58, 0x74], data: text, crc: 0))
        let badTypeMessage = Self.corruptMessage(badType)
        #expect(badTypeMessage != nil && badTypeMessage?.hasPrefix("not refused") == false, "\(badTypeMessage ?? "decoded")")
    }
}
