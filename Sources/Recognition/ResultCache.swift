import Crypto

/// Recent classifications by the SHA-256 of the uploaded bytes: a bounded least-recently-used map.
///
/// The same photo uploaded again skips decoding and the engine. Store results with their logits so a later
/// request can ask for any number of top classes.
public actor ResultCache {
    /// The SHA-256 of an upload, in hex.
    public typealias Key = String

    private struct Node {
        let key: Key
        var value: Classification
        var newer: Int?
        var older: Int?
    }

    /// Entries kept at most; 0 turns the cache off.
    public let capacity: Int
    private var slots: [Key: Int] = [:]
    private var nodes: [Node] = []
    private var newest: Int?
    private var oldest: Int?

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The cache key of some bytes; computed by the caller, off the actor.
    public nonisolated static func key(for bytes: [UInt8]) -> Key {
        let hex: [Character] = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(64)
        for byte in SHA256.hash(data: bytes) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return text
    }

    /// Entries held now.
    public var count: Int { slots.count }

    /// The stored result, which becomes the most recently used.
    public func value(for key: Key) -> Classification? {
        guard let slot = slots[key] else { return nil }
        moveToFront(slot)
        return nodes[slot].value
    }

    /// Stores a result, dropping the least recently used one when full.
    public func insert(_ value: Classification, for key: Key) {
        guard capacity > 0 else { return }
        if let slot = slots[key] {
            nodes[slot].value = value
            moveToFront(slot)
            return
        }
        let slot: Int
        if nodes.count < capacity {
            slot = nodes.count
            nodes.append(Node(key: key, value: value, newer: nil, older: nil))
        } else {
            // Reuse the oldest node's place for the new entry.
            slot = oldest!
            unlink(slot)
            slots[nodes[slot].key] = nil
            nodes[slot] = Node(key: key, value: value, newer: nil, older: nil)
        }
        slots[key] = slot
        linkAtFront(slot)
    }

    private func moveToFront(_ slot: Int) {
        guard newest != slot else { return }
        unlink(slot)
        linkAtFront(slot)
    }

    private func unlink(_ slot: Int) {
        let node = nodes[slot]
        if let newer = node.newer { nodes[newer].older = node.older } else { newest = node.older }
        if let older = node.older { nodes[older].newer = node.newer } else { oldest = node.newer }
        nodes[slot].newer = nil
        nodes[slot].older = nil
    }

    private func linkAtFront(_ slot: Int) {
        nodes[slot].older = newest
        nodes[slot].newer = nil
        if let previous = newest { nodes[previous].newer = slot }
        newest = slot
        if oldest == nil { oldest = slot }
    }
}
