/// A step of an execution plan run by one of the project's own kernels (`CKernels`) instead of a oneDNN primitive.
///
/// What the plan needs of a kernel is all here, so a new kernel is one file conforming to this: the memories it
/// reads and writes (they decide how long its activations stay in the arena), the scratchpad bytes one run needs
/// (the plan's shared scratchpad is the largest of its steps'), how it runs, and the name the plan's step list
/// reports for it.
protocol KernelStep: AnyObject {
    /// The name in the plan's step list, in the `name:isa` form of oneDNN's implementation names.
    var implementation: String { get }
    /// The memories the step reads or writes; the plan binds their pointers before each run.
    var bound: [DNNLMemory] { get }
    /// Scratchpad bytes one run needs.
    var scratchpadBytes: Int { get }
    /// Runs the step on the plan's scratchpad (64-byte aligned, at least `scratchpadBytes`).
    func execute(scratchpad: UnsafeMutableRawPointer) throws(ResNetError)
}
