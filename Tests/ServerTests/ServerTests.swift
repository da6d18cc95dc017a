import Testing

/// Every suite of this target, one test at a time: each starts a server and several run the engine,
/// and in parallel on two cores they would only wait on each other (and on the client's deadlines).
@Suite(.serialized)
enum ServerTests {}
