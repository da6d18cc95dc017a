import Testing

/// The suites of this target in two groups, each run one test at a time: most tests start a server and many run
/// the engine, and a group's tests in parallel on two cores would only wait on each other (and on the client's
/// deadlines). The two groups run beside each other, as the other targets' suites do, so that the run is not as
/// long as every server test end to end.
///
/// Requests and their answers: classification, the KServe protocol, batching, refusals.
@Suite(.serialized)
enum ServerTests {}

/// What the server keeps across requests: streams, history, logins and their protection, heads, shutdown.
@Suite(.serialized)
enum ServerStateTests {}
