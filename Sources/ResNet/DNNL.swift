import CDNNL
import CThreadBinding

/// Turns a oneDNN status into a thrown `ResNetError.engine` naming the call that failed.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ what: @autoclosure () -> String) throws(ResNetError) {
    guard status == dnnl_success else {
        throw ResNetError.engine("\(what()) failed: \(String(cString: dnnl_status2str(status)))")
    }
}

/// Execution argument indices (`DNNL_ARG_*`), which Swift cannot import from their macro aliases.
enum DNNLArg {
    static let src: Int32 = 1
    static let dst: Int32 = 17
    static let weights: Int32 = 33
    static let bias: Int32 = 41
    static let scratchpad: Int32 = 80
}

/// A oneDNN CPU engine and the in-order stream that executes on it.
///
/// A stream is used by one thread at a time; engine calls that run at once each have a stream of their own on one
/// shared engine (`init(sharingEngineOf:)`), so that every call's primitives can read the same weight memories.
final class DNNLEngine: @unchecked Sendable {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t
    /// The engine whose `dnnl_engine_t` this one borrows, kept alive as long as this stream; nil when it is ours.
    private let owner: DNNLEngine?

    init() throws(ResNetError) {
        var engine: dnnl_engine_t?
        try dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create")
        var stream: dnnl_stream_t?
        let status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
        if status != dnnl_success { dnnl_engine_destroy(engine) }
        try dnnlCheck(status, "dnnl_stream_create")
        self.engine = engine!
        self.stream = stream!
        owner = nil
    }

    /// A stream of its own on `other`'s engine.
    init(sharingEngineOf other: DNNLEngine) throws(ResNetError) {
        var stream: dnnl_stream_t?
        try dnnlCheck(dnnl_stream_create(&stream, other.engine, dnnl_stream_default_flags.rawValue), "dnnl_stream_create")
        engine = other.engine
        self.stream = stream!
        owner = other
    }

    func wait() throws(ResNetError) {
        try dnnlCheck(dnnl_stream_wait(stream), "dnnl_stream_wait")
    }

    deinit {
        dnnl_stream_destroy(stream)
        if owner == nil { dnnl_engine_destroy(engine) }
    }

    /// Sets the OpenMP thread count of the calling thread's next parallel regions, oneDNN's and the project's
    /// kernels'. OpenMP keeps it per thread, not per process: the engine sets it on every call, from whichever thread
    /// makes it.
    static func setThreads(_ count: Int) {
        omp_set_num_threads(Int32(max(1, count)))
    }

    /// The calling thread's OpenMP thread count (what `setThreads` last set on this thread).
    static var maxThreads: Int { Int(omp_get_max_threads()) }

    /// Binds each thread of the calling thread's OpenMP team to a CPU of its own (see `CThreadBinding`).
    ///
    /// Unbound, a team that wakes after an idle spell can land two threads on one core while the other core
    /// runs the server's I/O, and a lone request's inference then takes far longer (bench/results/engine-plan.md).
    static func bindTeamToCPUs(threads: Int, firstCPU: Int = 0) {
        _ = resnet18_bind_openmp_team(Int32(threads), Int32(firstCPU))
    }
}

/// The instruction sets oneDNN dispatches to on this CPU (`dnnl_get_effective_cpu_isa`).
enum DNNLInstructionSet {
    /// AVX-512 (`avx512_core`), which oneDNN's Winograd, its brgconv and its bf16 convolutions need.
    static var avx512: Bool { has(dnnl_cpu_isa_avx512_core) }
    /// AVX-512 VNNI (`avx512_core_vnni`), which its int8 brgconv needs.
    static var avx512VNNI: Bool { has(dnnl_cpu_isa_avx512_core_vnni) }
    /// What `dnnl_get_effective_cpu_isa` names, for messages (`avx2`, `avx512_core_vnni`, ...).
    static var name: String {
        let isa = dnnl_get_effective_cpu_isa()
        let names: [(dnnl_cpu_isa_t, String)] = [
            (dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"), (dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"),
            (dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"), (dnnl_cpu_isa_avx512_core, "avx512_core"),
            (dnnl_cpu_isa_avx2_vnni, "avx2_vnni"), (dnnl_cpu_isa_avx2, "avx2"), (dnnl_cpu_isa_avx, "avx"),
            (dnnl_cpu_isa_sse41, "sse41"),
        ]
        return names.first { $0.0 == isa }?.1 ?? "0x\(String(isa.rawValue, radix: 16))"
    }

    /// Each ISA's value holds the bits of those it extends.
    private static func has(_ isa: dnnl_cpu_isa_t) -> Bool {
        dnnl_get_effective_cpu_isa().rawValue & isa.rawValue == isa.rawValue
    }
}

/// A memory descriptor: shape, data type and layout. A value, as in the C API.
struct MemoryDesc {
    var raw: dnnl_memory_desc_t

    init(_ raw: dnnl_memory_desc_t) { self.raw = raw }

    init(dims: [Int], type: dnnl_data_type_t, tag: dnnl_format_tag_t) throws(ResNetError) {
        var md = dnnl_memory_desc_t()
        let dims64 = dims.map(Int64.init)
        try dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), dims64, type, tag), "memory descriptor \(dims)")
        raw = md
    }

    /// Bytes a buffer of this layout needs (blocked layouts pad channels).
    var byteCount: Int {
        var md = raw
        return dnnl_memory_desc_get_size(&md)
    }

    var dataType: dnnl_data_type_t { raw.data_type }

    /// The first dimension: images, for an activation.
    var images: Int { Int(raw.dims.0) }

    /// The same shape and layout holding `type` (element strides are unchanged for same-size types).
    func with(type: dnnl_data_type_t) -> MemoryDesc {
        var copy = raw
        copy.data_type = type
        return MemoryDesc(copy)
    }

    static func == (lhs: MemoryDesc, rhs: MemoryDesc) -> Bool {
        var l = lhs.raw, r = rhs.raw
        return dnnl_memory_desc_equal(&l, &r) != 0
    }
}

/// A oneDNN memory object; owns its buffer unless created over a caller's pointer.
final class DNNLMemory {
    let handle: dnnl_memory_t
    let desc: MemoryDesc

    /// Memory with a buffer allocated by oneDNN.
    init(_ desc: MemoryDesc, engine: DNNLEngine) throws(ResNetError) {
        var md = desc.raw
        var memory: dnnl_memory_t?
        // DNNL_MEMORY_ALLOCATE is ((void *)(size_t)-1).
        let allocate = UnsafeMutableRawPointer(bitPattern: UInt.max)
        try dnnlCheck(dnnl_memory_create(&memory, &md, engine.engine, allocate), "dnnl_memory_create")
        handle = memory!
        self.desc = desc
    }

    /// Memory over a buffer the caller owns and keeps alive while this object is used.
    init(_ desc: MemoryDesc, engine: DNNLEngine, pointer: UnsafeMutableRawPointer?) throws(ResNetError) {
        var md = desc.raw
        var memory: dnnl_memory_t?
        try dnnlCheck(dnnl_memory_create(&memory, &md, engine.engine, pointer), "dnnl_memory_create")
        handle = memory!
        self.desc = desc
    }

    var pointer: UnsafeMutableRawPointer {
        var p: UnsafeMutableRawPointer?
        dnnl_memory_get_data_handle(handle, &p)
        return p!
    }

    func setPointer(_ pointer: UnsafeMutableRawPointer) throws(ResNetError) {
        try dnnlCheck(dnnl_memory_set_data_handle(handle, pointer), "dnnl_memory_set_data_handle")
    }

    deinit { dnnl_memory_destroy(handle) }
}

/// Primitive attributes: post-ops (sum, ReLU), output scales, scratchpad mode.
final class DNNLAttributes {
    let handle: dnnl_primitive_attr_t

    /// With `userScratchpad`, the plan passes one shared scratchpad instead of one per primitive.
    init(userScratchpad: Bool = true) throws(ResNetError) {
        var attr: dnnl_primitive_attr_t?
        try dnnlCheck(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create")
        handle = attr!
        if userScratchpad {
            try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(handle, dnnl_scratchpad_mode_user), "scratchpad mode")
        }
    }

    /// Appends `dst += sumScale × previous dst` then ReLU, as a residual block ends.
    ///
    /// `sumType` reads the previous dst as another type of the same size (an s8 identity under a u8 output).
    func setPostOps(sum: Bool, relu: Bool, sumScale: Float = 1,
                    sumType: dnnl_data_type_t = dnnl_data_type_undef) throws(ResNetError) {
        guard sum || relu else { return }
        var ops: dnnl_post_ops_t?
        try dnnlCheck(dnnl_post_ops_create(&ops), "dnnl_post_ops_create")
        defer { dnnl_post_ops_destroy(ops) }
        if sum { try dnnlCheck(dnnl_post_ops_append_sum_v2(ops, sumScale, sumType), "post-op sum") }
        if relu { try dnnlCheck(dnnl_post_ops_append_eltwise(ops, 1, dnnl_eltwise_relu, 0, 0), "post-op relu") }
        try dnnlCheck(dnnl_primitive_attr_set_post_ops(handle, ops), "set post-ops")
    }

    /// Per-output-channel (mask 2) or per-tensor (mask 0) scales applied to the accumulator.
    func setOutputScales(_ scales: [Float]) throws(ResNetError) {
        try dnnlCheck(dnnl_primitive_attr_set_output_scales(handle, Int64(scales.count), scales.count > 1 ? 2 : 0, scales), "output scales")
    }

    deinit { dnnl_primitive_attr_destroy(handle) }
}

/// A primitive descriptor: which implementation oneDNN chose and the layouts it wants.
final class DNNLPrimitiveDesc {
    let handle: dnnl_primitive_desc_t

    init(_ handle: dnnl_primitive_desc_t) { self.handle = handle }

    func md(_ query: dnnl_query_t, _ index: Int32 = 0) -> MemoryDesc {
        MemoryDesc(dnnl_primitive_desc_query_md(handle, query, index)!.pointee)
    }

    var src: MemoryDesc { md(dnnl_query_src_md) }
    var weights: MemoryDesc { md(dnnl_query_weights_md) }
    var dst: MemoryDesc { md(dnnl_query_dst_md) }
    var scratchpad: MemoryDesc { md(dnnl_query_scratchpad_md) }

    /// The implementation's name, e.g. `brgconv:avx512_core` or `jit_wino_2x3:avx512_core`.
    var implementation: String {
        var name: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(handle, dnnl_query_impl_info_str, 0, &name)
        return name.map { String(cString: $0) } ?? "?"
    }

    /// The primitive's kind, as oneDNN names it: `convolution`, `pooling`, `reorder`, `inner_product`, ...
    var kind: String {
        var kind = dnnl_undefined_primitive
        dnnl_primitive_desc_query(handle, dnnl_query_primitive_kind, 0, &kind)
        var name = String(cString: dnnl_prim_kind2str(kind))
        if name.hasSuffix("_v2") { name.removeLast(3) }  // oneDNN 2.x calls its current pooling `pooling_v2`
        return name
    }

    deinit { dnnl_primitive_desc_destroy(handle) }
}

/// A compiled primitive together with the arguments it runs on.
final class DNNLPrimitive {
    let handle: dnnl_primitive_t
    let desc: DNNLPrimitiveDesc
    var arguments: [dnnl_exec_arg_t] = []
    /// The memories behind `arguments`, kept alive as long as the primitive may run on them.
    private(set) var bound: [DNNLMemory] = []

    init(_ desc: DNNLPrimitiveDesc) throws(ResNetError) {
        var primitive: dnnl_primitive_t?
        try dnnlCheck(dnnl_primitive_create(&primitive, desc.handle), "dnnl_primitive_create (\(desc.implementation))")
        handle = primitive!
        self.desc = desc
    }

    func bind(_ arg: Int32, _ memory: DNNLMemory) {
        arguments.append(dnnl_exec_arg_t(arg: arg, memory: memory.handle))
        bound.append(memory)
    }

    func execute(on engine: DNNLEngine) throws(ResNetError) {
        let status = arguments.withUnsafeBufferPointer {
            dnnl_primitive_execute(handle, engine.stream, Int32($0.count), $0.baseAddress)
        }
        try dnnlCheck(status, "executing \(desc.implementation)")
    }

    /// Runs once on the given arguments (used for weight reorders at build time).
    static func runOnce(_ desc: DNNLPrimitiveDesc, engine: DNNLEngine, _ args: [(Int32, DNNLMemory)]) throws(ResNetError) {
        let primitive = try DNNLPrimitive(desc)
        for (arg, memory) in args { primitive.bind(arg, memory) }
        try primitive.execute(on: engine)
        try engine.wait()
    }

    deinit { dnnl_primitive_destroy(handle) }
}
