import Recognition
import Synchronization

/// The heads answers carry, read afresh by every request and frame: those of `--head` and the config file (fixed
/// for the process's life), and those switched on from the heads page, which replace one another by name without
/// a restart.
final class HeadRegistry: Sendable {
    private let heads: Mutex<[LinearHead]>
    /// Names of the heads from files: the page does not replace or switch off these.
    let fileNames: Set<String>

    init(files: [LinearHead]) {
        heads = Mutex(files)
        fileNames = Set(files.map(\.name))
    }

    var current: [LinearHead] { heads.withLock { $0 } }

    /// The heads with `head` in place of the one of its name (or added last).
    func replacing(with head: LinearHead) -> [LinearHead] {
        var list = current
        if let index = list.firstIndex(where: { $0.name == head.name }) { list[index] = head } else { list.append(head) }
        return list
    }

    /// The heads without the one named.
    func removing(name: String) -> [LinearHead] { current.filter { $0.name != name } }

    func set(_ list: [LinearHead]) { heads.withLock { $0 = list } }
}
