/// A value on the restricted unpickler's stack.
///
/// Lists and dicts live in the unpickler's arena and are referred to by index, so no value owns
/// another container: cycles or long chains built through the memo cannot make freeing recurse.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits, as little-endian two's-complement bytes (the torch magic number is one).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// Items, and the nesting depth (1 + the deepest item's), which the unpickler bounds.
    case tuple([PickleValue], depth: Int)
    case list(Int)
    case dict(Int)
    /// A callable or class the allow-list admitted; never executed, only recognised.
    case global(module: String, name: String)
    case storage(StorageReference)
    case tensor(TensorView)

    var depth: Int {
        if case .tuple(_, let depth) = self { depth } else { 0 }
    }

    /// The text of a `str`, or of an ASCII `bytes` (Python 2 pickles write some names as bytes).
    var text: String? {
        switch self {
        case .string(let string): string
        case .bytes(let bytes): String(validating: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// What the value is, for error messages.
    var kind: String {
        switch self {
        case .none: "None"
        case .bool: "a bool"
        case .int, .bigInt: "an int"
        case .float: "a float"
        case .string: "a str"
        case .bytes: "bytes"
        case .tuple: "a tuple"
        case .list: "a list"
        case .dict: "a dict"
        case .global(let module, let name): "\(module).\(name)"
        case .storage: "a storage"
        case .tensor: "a tensor"
        }
    }
}
