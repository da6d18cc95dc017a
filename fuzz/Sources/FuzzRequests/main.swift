import Glibc

// SwiftPM links an executable target with `main` aliased to this module's entry point, which would hide
// libFuzzer's own `main`; so the entry point hands over to libFuzzer's driver with the command line as given.
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzRequests))
