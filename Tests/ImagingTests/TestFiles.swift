import Foundation
import TestSupport

/// Files the Imaging tests read: the shared fixtures and the small files committed beside these tests.
enum TestFiles {
    /// Tests/ImagingTests/Resources, found from this file's path (no bundle resources needed).
    static let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources")

    static func resource(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: resources.appendingPathComponent(name)))
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: Fixtures.images.appendingPathComponent(name)))
    }
}
