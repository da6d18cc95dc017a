/// A pickle reader that understands only what a PyTorch state_dict needs and executes nothing.
///
/// Globals are checked against an allow-list the moment they are named; the few it admits
/// (`OrderedDict`, `_rebuild_tensor_v2`, the storage classes) are recognised, not called.
/// Every read is bounds-checked and every structure bounded, so malformed input throws instead of trapping.
struct Unpickler {
    /// Lists and dicts created so far; `PickleValue.list(i)` and `.dict(i)` index these.
    private(set) var lists: [[PickleValue]] = []
    private(set) var dicts: [[(key: PickleValue, value: PickleValue)]] = []
    /// Root storages named by persistent ids, by key, as first declared.
    private(set) var storages: [String: StorageReference] = [:]

    private let file: String
    /// Which part of the file is being read, for messages ("data.pkl").
    private let source: String

    private static let maximumStackCount = 1 << 22
    private static let maximumMemoCount = 1 << 22
    private static let maximumContainerCount = 1 << 22
    private static let maximumMarkDepth = 1 << 12
    private static let maximumTupleDepth = 64
    private static let maximumDimensions = 32

    init(file: String, source: String) {
        self.file = file
        self.source = source
    }

    private func malformed(_ detail: String) -> CheckpointError {
        .malformed(file: file, detail: "\(source): \(detail)")
    }

    // MARK: - The machine

    /// Runs one pickle from the reader's position to its STOP opcode and returns its value.
    mutating func load(_ reader: inout ByteReader) throws(CheckpointError) -> PickleValue {
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]

        func push(_ value: PickleValue) throws(CheckpointError) {
            guard stack.count < Self.maximumStackCount else { throw malformed("the pickle stack grows without bound") }
            stack.append(value)
        }
        func pop() throws(CheckpointError) -> PickleValue {
            guard let value = stack.popLast(), stack.count >= (marks.last ?? 0) else {
                throw malformed("an opcode pops from an empty stack")
            }
            return value
        }
        func top() throws(CheckpointError) -> PickleValue {
            guard let value = stack.last, stack.count > (marks.last ?? 0) else {
                throw malformed("an opcode reads an empty stack")
            }
            return value
        }
        func popToMark() throws(CheckpointError) -> [PickleValue] {
            guard let mark = marks.popLast() else { throw malformed("an opcode needs a MARK that was never set") }
            defer { stack.removeSubrange(mark...) }
            return Array(stack[mark...])
        }
        func text(_ count: Int) throws(CheckpointError) -> String {
            let range = try reader.take(count)
            guard let string = String(validating: reader.bytes[range], as: UTF8.self) else {
                throw malformed("a string at offset \(range.lowerBound) is not valid UTF-8")
            }
            return string
        }
        func length(_ byteCount: Int) throws(CheckpointError) -> Int {
            let value = try reader.unsigned(byteCount)
            // Checked against what is left before anything is allocated: a lying length fails here.
            guard value <= UInt64(reader.remaining) else { throw reader.pastEnd(reader.remaining + 1, reader.position) }
            return Int(value)
        }
        func memoIndex(_ byteCount: Int) throws(CheckpointError) -> Int {
            Int(try reader.unsigned(byteCount))
        }
        func remember(_ index: Int) throws(CheckpointError) {
            guard memo.count < Self.maximumMemoCount || memo[index] != nil else { throw malformed("the pickle memo grows without bound") }
            memo[index] = try top()
        }
        func recall(_ index: Int) throws(CheckpointError) {
            guard let value = memo[index] else { throw malformed("the pickle reads memo slot \(index), which was never written") }
            try push(value)
        }
        func tuple(_ items: [PickleValue]) throws(CheckpointError) -> PickleValue {
            let depth = 1 + (items.lazy.map(\.depth).max() ?? 0)
            guard depth <= Self.maximumTupleDepth else { throw malformed("tuples are nested more than \(Self.maximumTupleDepth) deep") }
            return .tuple(items, depth: depth)
        }

        while true {
            let offset = reader.position
            let opcode = try reader.byte()
            switch opcode {
            case 0x80:  // PROTO
                let version = try reader.byte()
                guard version <= 5 else { throw malformed("pickle protocol \(version) is newer than any Python writes") }
            case 0x95:  // FRAME: a length hint for buffered readers; everything is in memory already.
                _ = try reader.unsigned(8)
            case 0x2e:  // STOP
                let result = try pop()
                guard marks.isEmpty else { throw malformed("the pickle stops inside a MARK") }
                return result
            case 0x28:  // MARK
                guard marks.count < Self.maximumMarkDepth else { throw malformed("MARKs are nested too deeply") }
                marks.append(stack.count)
            case 0x7d:  // EMPTY_DICT
                try push(.dict(try newDict()))
            case 0x5d:  // EMPTY_LIST
                try push(.list(try newList()))
            case 0x29:  // EMPTY_TUPLE
                try push(.tuple([], depth: 1))
            case 0x74:  // TUPLE
                try push(try tuple(try popToMark()))
            case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
                var items: [PickleValue] = []
                for _ in 0..<Int(opcode - 0x84) { items.append(try pop()) }
                try push(try tuple(items.reversed()))
            case 0x4e:  // NONE
                try push(.none)
            case 0x88:  // NEWTRUE
                try push(.bool(true))
            case 0x89:  // NEWFALSE
                try push(.bool(false))
            case 0x4b:  // BININT1
                try push(.int(Int(try reader.unsigned(1))))
            case 0x4d:  // BININT2
                try push(.int(Int(try reader.unsigned(2))))
            case 0x4a:  // BININT
                try push(.int(Int(Int32(truncatingIfNeeded: try reader.unsigned(4)))))
            case 0x8a:  // LONG1
                let range = try reader.take(Int(try reader.byte()))
                try push(Self.integer(littleEndian: reader.bytes[range]))
            case 0x47:  // BINFLOAT, big-endian
                let range = try reader.take(8)
                let bits = reader.bytes[range].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                try push(.float(Double(bitPattern: bits)))
            case 0x58:  // BINUNICODE
                try push(.string(try text(try length(4))))
            case 0x8c:  // SHORT_BINUNICODE
                try push(.string(try text(try length(1))))
            case 0x8d:  // BINUNICODE8
                try push(.string(try text(try length(8))))
            case 0x55:  // SHORT_BINSTRING
                try push(.string(try text(try length(1))))
            case 0x54:  // BINSTRING: a signed length
                let count = Int32(truncatingIfNeeded: try reader.unsigned(4))
                guard count >= 0 else { throw malformed("a string at offset \(offset) has a negative length") }
                try push(.string(try text(Int(count))))
            case 0x43:  // SHORT_BINBYTES
                try push(.bytes(Array(reader.bytes[try reader.take(try length(1))])))
            case 0x42:  // BINBYTES
                try push(.bytes(Array(reader.bytes[try reader.take(try length(4))])))
            case 0x71:  // BINPUT
                try remember(try memoIndex(1))
            case 0x72:  // LONG_BINPUT
                try remember(try memoIndex(4))
            case 0x94:  // MEMOIZE
                try remember(memo.count)
            case 0x68:  // BINGET
                try recall(try memoIndex(1))
            case 0x6a:  // LONG_BINGET
                try recall(try memoIndex(4))
            case 0x63:  // GLOBAL: "module\nname\n"
                let module = try reader.line()
                let name = try reader.line()
                try push(try global(module: String(decoding: module, as: UTF8.self), name: String(decoding: name, as: UTF8.self)))
            case 0x93:  // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard case .string(let moduleName) = module, case .string(let attribute) = name else {
                    throw malformed("STACK_GLOBAL at offset \(offset) names a global with \(module.kind) and \(name.kind)")
                }
                try push(try global(module: moduleName, name: attribute))
            case 0x52:  // REDUCE
                let arguments = try pop()
                let callable = try pop()
                try push(try call(callable, arguments, nesting: 0))
            case 0x81:  // NEWOBJ
                let arguments = try pop()
                let type = try pop()
                guard case .global("collections", "OrderedDict") = type, case .tuple(let items, _) = arguments, items.isEmpty else {
                    throw malformed("NEWOBJ at offset \(offset) creates \(type.kind), which a state_dict never contains")
                }
                try push(.dict(try newDict()))
            case 0x62:  // BUILD: sets attributes (a state_dict's _metadata, a Parameter's state); nothing to keep.
                _ = try pop()
                _ = try top()
            case 0x51:  // BINPERSID
                try push(try persistentLoad(try pop()))
            case 0x73:  // SETITEM
                let value = try pop()
                let key = try pop()
                try setItems(in: try top(), [key, value])
            case 0x75:  // SETITEMS
                let items = try popToMark()
                try setItems(in: try top(), items)
            case 0x61:  // APPEND
                let value = try pop()
                try append(to: try top(), [value])
            case 0x65:  // APPENDS
                let items = try popToMark()
                try append(to: try top(), items)
            default:
                throw malformed("opcode 0x\(String(opcode, radix: 16)) at offset \(offset) is not one a state_dict pickle uses")
            }
        }
    }

    /// LONG1's little-endian two's-complement bytes: an Int when it fits, else the raw bytes.
    private static func integer(littleEndian bytes: ArraySlice<UInt8>) -> PickleValue {
        guard !bytes.isEmpty else { return .int(0) }
        guard bytes.count <= 8 else { return .bigInt(Array(bytes)) }
        let negative = bytes.last! & 0x80 != 0
        var value: UInt64 = negative ? .max : 0
        for byte in bytes.reversed() { value = value << 8 | UInt64(byte) }
        return .int(Int(Int64(bitPattern: value)))
    }

    private mutating func newDict() throws(CheckpointError) -> Int {
        guard dicts.count < Self.maximumContainerCount else { throw malformed("the pickle creates too many dicts") }
        dicts.append([])
        return dicts.count - 1
    }

    private mutating func newList() throws(CheckpointError) -> Int {
        guard lists.count < Self.maximumContainerCount else { throw malformed("the pickle creates too many lists") }
        lists.append([])
        return lists.count - 1
    }

    private mutating func setItems(in target: PickleValue, _ items: [PickleValue]) throws(CheckpointError) {
        guard case .dict(let index) = target else { throw malformed("the pickle sets items on \(target.kind), not a dict") }
        guard items.count % 2 == 0 else { throw malformed("SETITEMS has a key without a value") }
        for pair in stride(from: 0, to: items.count, by: 2) {
            dicts[index].append((key: items[pair], value: items[pair + 1]))
        }
    }

    private mutating func append(to target: PickleValue, _ items: [PickleValue]) throws(CheckpointError) {
        guard case .list(let index) = target else { throw malformed("the pickle appends to \(target.kind), not a list") }
        lists[index].append(contentsOf: items)
    }

    // MARK: - Globals: the allow-list

    private static let allowedGlobals: Set<String> = [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._tensor._rebuild_from_type_v2",
        "torch.Tensor",
        "torch.nn.parameter.Parameter",
    ]

    private func global(module: String, name: String) throws(CheckpointError) -> PickleValue {
        let qualified = "\(module).\(name)"
        if Self.allowedGlobals.contains(qualified) || (module == "torch" && DType(torchStorage: name) != nil) {
            return .global(module: module, name: name)
        }
        if module == "torch" && name.hasSuffix("Storage") {
            throw .unsupported(file: file, detail: "it stores tensors as torch.\(name), a dtype this loader does not read "
                + "(it reads float32, float16, bfloat16, float64, int64, int32, uint8, int8 and bool); "
                + "convert those tensors before saving (nothing was executed)")
        }
        if module == "torch._utils" && name.hasPrefix("_rebuild_") {
            throw .unsupported(file: file, detail: "it rebuilds tensors with torch._utils.\(name) (quantized, sparse or "
                + "otherwise special tensors), which this loader does not read; save dense tensors instead (nothing was executed)")
        }
        if module.hasPrefix("__torch__") {
            throw .unsupported(file: file, detail: "this is a TorchScript archive (torch.jit.save), not a state_dict; "
                + "save the weights with torch.save(model.state_dict(), path) instead (nothing was executed)")
        }
        throw .forbiddenGlobal(file: file, global: qualified)
    }

    /// What REDUCE would compute, for the few callables the allow-list admits.
    private mutating func call(_ callable: PickleValue, _ arguments: PickleValue, nesting: Int) throws(CheckpointError) -> PickleValue {
        guard case .tuple(let args, _) = arguments else {
            throw malformed("\(callable.kind) is called with \(arguments.kind) instead of an argument tuple")
        }
        guard case .global(let module, let name) = callable, nesting < 4 else {
            throw malformed("the pickle calls \(callable.kind), which a state_dict never does")
        }
        switch (module, name) {
        case ("collections", "OrderedDict") where args.isEmpty:
            return .dict(try newDict())
        case ("torch._utils", "_rebuild_tensor_v2"):
            return try rebuildTensor(args)
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let data = args.first, case .tensor = data else {
                throw malformed("torch._utils.\(name) is given \(args.first?.kind ?? "nothing") instead of a tensor")
            }
            return data
        case ("torch._tensor", "_rebuild_from_type_v2") where args.count == 4:
            // (function, type, arguments, state): the tensor is what the function builds.
            return try call(args[0], args[2], nesting: nesting + 1)
        default:
            throw malformed("the pickle calls \(module).\(name) with \(args.count) arguments, which torch.save never writes")
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    private func rebuildTensor(_ args: [PickleValue]) throws(CheckpointError) -> PickleValue {
        guard args.count == 6 || args.count == 7, case .storage(let storage) = args[0] else {
            throw malformed("_rebuild_tensor_v2 is given \(args.count) arguments starting with \(args.first?.kind ?? "nothing")")
        }
        guard case .int(let offset) = args[1], offset >= 0,
              let shape = sizes(args[2]), let stride = sizes(args[3]), shape.count == stride.count
        else {
            throw malformed("_rebuild_tensor_v2 is given an invalid offset, size or stride")
        }
        return .tensor(TensorView(storage: storage, offset: offset, shape: shape, stride: stride))
    }

    /// A tuple of non-negative ints (a size or a stride).
    private func sizes(_ value: PickleValue) -> [Int]? {
        guard case .tuple(let items, _) = value, items.count <= Self.maximumDimensions else { return nil }
        var result: [Int] = []
        for item in items {
            guard case .int(let size) = item, size >= 0 else { return nil }
            result.append(size)
        }
        return result
    }

    // MARK: - Persistent ids: where storages are

    /// `('storage', storage_type, key, location, numel[, view_metadata])`: zip files write five fields,
    /// legacy files six, the last `None` or `(view_key, offset, view_size)`.
    private mutating func persistentLoad(_ id: PickleValue) throws(CheckpointError) -> PickleValue {
        guard case .tuple(let fields, _) = id, fields.count == 5 || fields.count == 6, fields[0].text == "storage" else {
            throw malformed("a persistent id is \(id.kind), not a ('storage', ...) tuple")
        }
        guard case .global("torch", let typeName) = fields[1], let dtype = DType(torchStorage: typeName) else {
            throw malformed("a persistent id names \(fields[1].kind) as its storage type")
        }
        let key: String
        switch fields[2] {
        case .int(let number): key = String(number)
        default:
            guard let text = fields[2].text else { throw malformed("a persistent id has \(fields[2].kind) as its key") }
            key = text
        }
        guard case .int(let count) = fields[4], count >= 0, count <= Int.max / 8 else {
            throw malformed("storage \(key) declares an invalid element count")
        }
        var viewOffset = 0
        var viewCount = count
        if fields.count == 6, case .tuple(let view, _) = fields[5] {
            guard view.count == 3, case .int(let offset) = view[1], case .int(let size) = view[2],
                  offset >= 0, size >= 0, offset <= count, size <= count - offset
            else { throw malformed("storage \(key) has a view outside its \(count) elements") }
            viewOffset = offset
            viewCount = size
        }
        if let earlier = storages[key] {
            guard earlier.dtype == dtype, earlier.rootElementCount == count else {
                throw malformed("storage \(key) is declared twice with different types or sizes")
            }
        } else {
            storages[key] = StorageReference(key: key, dtype: dtype, rootElementCount: count, viewOffset: 0, viewElementCount: count)
        }
        return .storage(StorageReference(key: key, dtype: dtype, rootElementCount: count, viewOffset: viewOffset, viewElementCount: viewCount))
    }

    // MARK: - Reading results

    func items(ofDict value: PickleValue) -> [(key: PickleValue, value: PickleValue)]? {
        guard case .dict(let index) = value else { return nil }
        return dicts[index]
    }

    func items(ofList value: PickleValue) -> [PickleValue]? {
        guard case .list(let index) = value else { return nil }
        return lists[index]
    }

    /// The tensors of a state_dict by name; a training checkpoint's nested `state_dict`/`model` is accepted too.
    func tensorViews(in root: PickleValue) throws(CheckpointError) -> [String: TensorView] {
        guard let entries = items(ofDict: root) else {
            throw malformed("the pickle holds \(root.kind), not a dict of tensors")
        }
        var views: [String: TensorView] = [:]
        for (key, value) in entries {
            if let name = key.text, case .tensor(let view) = value { views[name] = view }
        }
        if views.isEmpty {
            for (key, value) in entries where ["state_dict", "model_state_dict", "model"].contains(key.text ?? "") {
                if case .dict = value, let nested = try? tensorViews(in: value), !nested.isEmpty { return nested }
            }
            throw .noTensors(file: file)
        }
        return views
    }
}
