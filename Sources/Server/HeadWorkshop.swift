import Foundation
import Recognition
import ResNet
import Storage

/// Heads taught from the page: examples kept in the database with their features, one training at a time per head
/// (on a thread of its own, its progress readable while it runs), and the switch of the running server to a trained
/// head without a restart. Trained heads wait in memory until switched on; switched-on heads are stored and served
/// again after a restart.
actor HeadWorkshop {
    /// A training's state, as `GET /v1/heads/{name}/training` answers it.
    struct Job: Encodable, Sendable {
        enum State: String, Encodable, Sendable { case running, done, failed }
        var state: State
        /// Steps done of `total`: one per regularisation strength cross-validated, and the final fit.
        var done: Int
        var total: Int
        var message: String
        var startedAt: String
        var finishedAt: String?
        var error: String?
        /// When done: the held-out report, and whether this head is the one answering now.
        var report: TrainingReport?
        var active = false

        enum CodingKeys: String, CodingKey {
            case state, done, total, message, error, report, active
            case startedAt = "started_at", finishedAt = "finished_at"
        }
    }

    /// The most examples a category may hold, and categories a head: the page teaches small heads.
    static let maxExamplesPerCategory = 500
    static let maxCategories = 64

    let store: HeadStore
    let registry: HeadRegistry
    let streams: StreamSupervisor
    let weights: WeightsIdentity
    private let log: @Sendable (String) -> Void
    private var jobs: [String: Job] = [:]
    /// Trained heads not switched on yet.
    private var trained: [String: LinearHead] = [:]

    init(store: HeadStore, registry: HeadRegistry, streams: StreamSupervisor, weights: WeightsIdentity,
         log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.store = store
        self.registry = registry
        self.streams = streams
        self.weights = weights
        self.log = log
    }

    private var restoring: Task<Void, Never>?

    /// At start-up, before the first request and before the streams come back (both wait for it; it runs once):
    /// the heads switched on from the page answer again (those made for other weights are skipped, saying why),
    /// then the streams learn of them.
    func restore() async {
        if let restoring { return await restoring.value }
        let task = Task { await load() }
        restoring = task
        await task.value
    }

    private func load() async {
        do {
            var heads = registry.current
            for stored in try await store.heads() where stored.active {
                guard !registry.fileNames.contains(stored.name) else {
                    log("head \(stored.name): a --head file has its name; the one trained on the page is not used")
                    continue
                }
                do {
                    let head = try LinearHead.decode(Data(stored.json.utf8), source: "the database's head \(stored.name)", backbone: weights)
                    heads.append(head)
                    log("head \(head.name): switched on from the heads page (\(head.categories.joined(separator: ", ")))")
                } catch {
                    log("head \(stored.name): not used: \(error)")
                }
            }
            registry.set(heads)
        } catch {
            log("heads: the heads trained on the page could not be read, none is used: \(error)")
        }
        await streams.setHeads(registry.current)
    }

    /// Checks a head's name for the page: the rules of category names, and not a `--head` file's.
    func check(name: String) throws(APIError) {
        if let problem = LinearHead.problem(withCategory: name) {
            throw .badRequest("the head's name: " + problem.replacingOccurrences(of: "category", with: "name"))
        }
        if registry.fileNames.contains(name) {
            throw .conflict("head \(name) comes from a --head file (or the config file's heads): teach the page another name")
        }
    }

    /// Refuses one more example in a full category or one category too many.
    func checkRoom(head: String, category: String, adding count: Int) async throws(APIError) {
        let examples = try await HistoryRoutes.storage { () async throws(StorageError) in try await store.examples(head: head) }
        let inCategory = examples.filter { $0.category == category }.count
        if inCategory + count > Self.maxExamplesPerCategory {
            throw .conflict("category \(category) has \(inCategory) examples; \(count) more would pass the \(Self.maxExamplesPerCategory) a category keeps: delete some first")
        }
        let categories = Set(examples.map(\.category))
        if !categories.contains(category), categories.count >= Self.maxCategories {
            throw .conflict("head \(head) has \(categories.count) categories, the most the page trains")
        }
    }

    func job(head: String) -> Job? {
        guard var job = jobs[head] else { return nil }
        job.active = job.state == .done && registry.current.contains { $0.name == head && $0 == trained[head] }
        return job
    }

    /// Starts training `head` from its stored examples; refused while it trains or with too few examples.
    func startTraining(head name: String) async throws(APIError) -> Job {
        try check(name: name)
        if jobs[name]?.state == .running { throw .conflict("head \(name) is training already: follow GET /v1/heads/\(name)/training") }
        let examples = try await HistoryRoutes.storage { () async throws(StorageError) in try await store.features(head: name) }
        let categories = Array(Set(examples.map(\.category))).sorted()
        guard categories.count >= 2 else {
            throw .unprocessable("head \(name) has \(categories.isEmpty ? "no examples" : "examples of one category only (\(categories[0]))"): a head needs at least 2 categories with 2 examples each (a few dozen each train a useful head)")
        }
        let counts = categories.map { category in examples.filter { $0.category == category }.count }
        if let small = counts.firstIndex(where: { $0 < 2 }) {
            throw .unprocessable("category \(categories[small]) has \(counts[small]) example: each needs at least 2 (a few dozen train a useful head)")
        }
        var samples: [TrainingSample] = []
        var files: [String] = []
        for example in examples {
            let category = categories.firstIndex(of: example.category)!
            let image = files.count
            files.append("example \(example.example): \(example.source)")
            for (position, features) in example.features.enumerated() {
                samples.append(TrainingSample(features: features.map(Double.init), category: category, image: image, isOriginal: position == 0))
            }
        }
        let folds = min(5, counts.min() ?? 2)
        let grid = HeadTrainer.defaultGrid
        let job = Job(state: .running, done: 0, total: grid.count + 1, message: "cross-validating \(grid.count) values of C × \(folds) folds",
                      startedAt: Timestamp.iso8601(Date()))
        jobs[name] = job
        let weights = self.weights
        let augmented = samples.count > files.count
        let (allSamples, allFiles) = (samples, files)
        // Off Swift's shared threads: the fit keeps a core busy for up to seconds.
        Thread.detachNewThread { [self] in
            let started = ContinuousClock.now
            let outcome = HeadTrainer.train(allSamples, categories: categories.count, folds: folds, grid: grid) { done, total, message in
                Task { await self.progress(head: name, done: done, total: total, message: message) }
            }
            let seconds = (ContinuousClock.now - started).milliseconds / 1000
            let report = TrainingReport(categories: categories, counts: counts,
                                        augmentations: augmented ? ["flip", "crops (uploads)"] : [], samples: allSamples.count,
                                        folds: folds, c: outcome.c, grid: outcome.grid, heldOut: outcome.heldOut, files: allFiles,
                                        skipped: [], weights: weights, embeddingSeconds: 0, trainingSeconds: seconds)
            Task { await self.finish(head: name, categories: categories, outcome: outcome, report: report) }
        }
        return job
    }

    private func progress(head: String, done: Int, total: Int, message: String) {
        guard var job = jobs[head], job.state == .running else { return }
        job.done = max(job.done, min(done, total - 1))
        job.message = message
        jobs[head] = job
    }

    private func finish(head name: String, categories: [String], outcome: HeadTrainer.Outcome, report: TrainingReport) {
        guard var job = jobs[name] else { return }
        job.finishedAt = Timestamp.iso8601(Date())
        do {
            let data = try JSONBody.encoder().encode(report)
            trained[name] = LinearHead(name: name, categories: categories, parameters: outcome.parameters, backbone: weights,
                                       c: outcome.c, reportJSON: String(decoding: data, as: UTF8.self))
            job.state = .done
            job.done = job.total
            job.report = report
            job.message = String(format: "held-out accuracy %.1f %% at C = %g: switch it on to answer with it", report.accuracy * 100, outcome.c)
            log("head \(name): trained (\(categories.count) categories, \(report.samples) samples, held-out accuracy \(String(format: "%.1f %%", report.accuracy * 100)))")
        } catch {
            job.state = .failed
            job.error = "the report could not be written: \(error)"
        }
        jobs[name] = job
    }

    /// Switches the running server to the head last trained under `name`: stored as active (it answers after a
    /// restart too), then requests and streams use it. Refused when nothing was trained, or a stream's rule names
    /// a category it lacks.
    func activate(head name: String) async throws(APIError) -> LinearHead {
        try check(name: name)
        guard let waiting = trained[name] else {
            throw .conflict("head \(name) has no trained head waiting: train it first (POST /v1/heads/\(name)/train)")
        }
        // As a restart will read it back from the database (numbers as JSON keeps them).
        let json: String
        let head: LinearHead
        do {
            let data = try waiting.encoded()
            json = String(decoding: data, as: UTF8.self)
            head = try LinearHead.decode(data, source: "the head trained on the page", backbone: weights)
        } catch {
            throw .internalError("the trained head could not be written: \(error)")
        }
        let heads = registry.replacing(with: head)
        try await streams.use(heads: heads)
        try await HistoryRoutes.storage { () async throws(StorageError) in try await store.saveHead(name: name, json: json, active: true) }
        registry.set(heads)
        trained[name] = head
        log("head \(name): switched on (\(head.categories.joined(separator: ", ")))")
        return head
    }

    /// Stops answering with a page head (it stays stored, switched off).
    func deactivate(head name: String) async throws(APIError) {
        try check(name: name)
        guard registry.current.contains(where: { $0.name == name }) else { throw .notFound("head \(name) is not switched on") }
        let heads = registry.removing(name: name)
        try await streams.use(heads: heads)
        _ = try await HistoryRoutes.storage { () async throws(StorageError) in try await store.setActive(name: name, false) }
        registry.set(heads)
        log("head \(name): switched off")
    }
}
