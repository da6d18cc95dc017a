import CKernels
import Foundation

/// One training example: an image's (or one of its augmented variants') features and its category.
public struct TrainingSample: Sendable {
    public let features: [Double]
    public let category: Int
    /// Which image it came from (variants of one image share it, and its fold).
    public let image: Int
    /// The image itself, not an augmented variant: only these are scored when held out.
    public let isOriginal: Bool

    public init(features: [Double], category: Int, image: Int, isOriginal: Bool) {
        self.features = features
        self.category = category
        self.image = image
        self.isOriginal = isOriginal
    }
}

/// Trains `LinearHead`s: multinomial logistic regression with an L2 penalty, minimised as scikit-learn's
/// `LogisticRegression(C=c)` (lbfgs, multinomial) minimises it, by L-BFGS to a tight tolerance; C chosen by
/// stratified k-fold cross-validation (held-out mean log-loss) over a grid, warm-started along it.
public enum HeadTrainer {
    public static let defaultGrid: [Double] = [0.001, 0.01, 0.1, 1, 10, 100]

    /// The fitted parameters ([k][d + 1]) for `samples`, from `start` when given.
    public static func fit(_ samples: [TrainingSample], categories k: Int, c: Double, start: [Double]? = nil) -> [Double] {
        let d = samples.first?.features.count ?? 0
        let x = samples.flatMap { $0.features.map(Float.init) }
        let y = samples.map { Int32($0.category) }
        let n = samples.count
        var scratch = [Float](repeating: 0, count: k * (d + 1))
        let objective: ([Double], inout [Double]) -> Double = { params, gradient in
            x.withUnsafeBufferPointer { x in
                y.withUnsafeBufferPointer { y in
                    params.withUnsafeBufferPointer { params in
                        gradient.withUnsafeMutableBufferPointer { gradient in
                            scratch.withUnsafeMutableBufferPointer { scratch in
                                resnet18_softmax_regression(x.baseAddress, y.baseAddress, Int64(n), Int64(d), Int64(k),
                                                            params.baseAddress, c, gradient.baseAddress, scratch.baseAddress)
                            }
                        }
                    }
                }
            }
        }
        // As scikit-learn's lbfgs stops, a little tighter than its default tol = 1e-4: the largest gradient entry of
        // its per-sample objective (ours over c·n) below 3e-5, or an iteration changing the objective by no more
        // than 64 ε of itself. The held-out probabilities then agree with a fit to 1e-12 within 1e-3 (tests/head:
        // 6.3e-4 at worst; at 1e-4 this line search stopped 1.07e-3 away, at 5e-5 9.6e-4), and the fit of 5 × 50
        // images stays well under 2 s (docs/performance.md; at 1e-5 it took 2.07 s).
        return LBFGS.minimise(objective, from: start ?? [Double](repeating: 0, count: k * (d + 1)),
                              gradientTolerance: 3e-5 * c * Double(n))
    }

    /// Each row's probabilities under `parameters`.
    public static func predict(_ features: [[Double]], parameters: [Double], categories k: Int) -> [[Double]] {
        guard let d = features.first?.count else { return [] }
        let x = features.flatMap { $0.map(Float.init) }
        var probabilities = [Double](repeating: 0, count: features.count * k)
        x.withUnsafeBufferPointer { x in
            parameters.withUnsafeBufferPointer { params in
                probabilities.withUnsafeMutableBufferPointer { out in
                    resnet18_softmax_regression_predict(x.baseAddress, Int64(features.count), Int64(d), Int64(k),
                                                        params.baseAddress, out.baseAddress)
                }
            }
        }
        return stride(from: 0, to: probabilities.count, by: k).map { Array(probabilities[$0..<($0 + k)]) }
    }

    /// A held-out prediction: the image, its true category, its fold and the probabilities a head trained without
    /// its fold gave it.
    public struct HeldOut: Sendable {
        public let image: Int
        public let category: Int
        public let fold: Int
        public let probabilities: [Double]
    }

    /// What `train` found: the chosen C, every C's held-out scores, the held-out predictions at the chosen C, and
    /// the parameters fitted on all samples at it.
    public struct Outcome: Sendable {
        public let c: Double
        public let grid: [TrainingReport.GridPoint]
        public let heldOut: [HeldOut]
        public let parameters: [Double]
    }

    /// Cross-validates every C of `grid` (warm-started along it), keeps the one with the lowest held-out log-loss and
    /// fits all samples at it. `progress(done, total, message)` follows each (C, fold) fit and the last one.
    public static func train(_ samples: [TrainingSample], categories k: Int, folds: Int, grid: [Double] = defaultGrid,
                             progress: (Int, Int, String) -> Void = { _, _, _ in }) -> Outcome {
        var starts = [[Double]?](repeating: nil, count: folds)
        var scores: [(point: TrainingReport.GridPoint, heldOut: [HeldOut])] = []
        let total = grid.count + 1
        for (position, c) in grid.enumerated() {
            let heldOut = crossValidate(samples, categories: k, folds: folds, c: c, starts: &starts)
            let point = TrainingReport.GridPoint(c: c, logLoss: logLoss(heldOut), accuracy: accuracy(heldOut))
            scores.append((point, heldOut))
            progress(position + 1, total, String(format: "cross-validation, C = %g: held-out accuracy %.1f %%, log-loss %.4f",
                                                 c, point.accuracy * 100, point.logLoss))
        }
        let best = scores.min { $0.point.logLoss < $1.point.logLoss }!
        let parameters = fit(samples, categories: k, c: best.point.c)
        progress(total, total, "fitted on all \(samples.count) samples at C = \(best.point.c)")
        return Outcome(c: best.point.c, grid: scores.map(\.point), heldOut: best.heldOut, parameters: parameters)
    }

    /// Cross-validation at one C: the held-out predictions of every image (its original only).
    public static func crossValidate(_ samples: [TrainingSample], categories k: Int, folds: Int, c: Double,
                                     starts: inout [[Double]?]) -> [HeldOut] {
        let foldOf = fold(of: samples, folds: folds)
        var heldOut: [HeldOut] = []
        for fold in 0..<folds {
            let training = samples.filter { foldOf[$0.image] != fold }
            let testing = samples.filter { foldOf[$0.image] == fold && $0.isOriginal }
            guard !testing.isEmpty, Set(training.map(\.category)).count == k else { continue }
            let parameters = fit(training, categories: k, c: c, start: starts[fold])
            starts[fold] = parameters
            let predicted = predict(testing.map(\.features), parameters: parameters, categories: k)
            for (sample, probabilities) in zip(testing, predicted) {
                heldOut.append(HeldOut(image: sample.image, category: sample.category, fold: fold, probabilities: probabilities))
            }
        }
        return heldOut.sorted { $0.image < $1.image }
    }

    /// Stratified folds: within each category, its images in order take folds 0, 1, 2, ... in turn.
    public static func fold(of samples: [TrainingSample], folds: Int) -> [Int: Int] {
        var foldOf: [Int: Int] = [:]
        var seen: [Int: Int] = [:]
        for sample in samples where foldOf[sample.image] == nil {
            let position = seen[sample.category, default: 0]
            foldOf[sample.image] = position % folds
            seen[sample.category] = position + 1
        }
        return foldOf
    }

    /// Mean held-out log-loss.
    public static func logLoss(_ heldOut: [HeldOut]) -> Double {
        guard !heldOut.isEmpty else { return .infinity }
        return heldOut.map { -log(max($0.probabilities[$0.category], 1e-15)) }.reduce(0, +) / Double(heldOut.count)
    }

    public static func accuracy(_ heldOut: [HeldOut]) -> Double {
        guard !heldOut.isEmpty else { return 0 }
        let right = heldOut.filter { prediction in prediction.probabilities.indices.max { prediction.probabilities[$0] < prediction.probabilities[$1] } == prediction.category }
        return Double(right.count) / Double(heldOut.count)
    }
}

/// Limited-memory BFGS with a backtracking (Armijo) line search, for smooth convex objectives.
enum LBFGS {
    static func minimise(_ objective: ([Double], inout [Double]) -> Double, from start: [Double],
                         memory: Int = 10, maxIterations: Int = 5000, gradientTolerance: Double) -> [Double] {
        var x = start
        var gradient = [Double](repeating: 0, count: x.count)
        var value = objective(x, &gradient)
        var steps: [[Double]] = [], changes: [[Double]] = [], rhos: [Double] = []
        var candidate = x, candidateGradient = gradient
        for _ in 0..<maxIterations {
            if gradient.map(abs).max() ?? 0 <= gradientTolerance { break }
            // Two-loop recursion: direction = -H * gradient.
            var q = gradient
            var alphas = [Double](repeating: 0, count: steps.count)
            for index in steps.indices.reversed() {
                alphas[index] = rhos[index] * dot(steps[index], q)
                axpy(-alphas[index], changes[index], &q)
            }
            if let lastStep = steps.last, let lastChange = changes.last {
                let gamma = dot(lastStep, lastChange) / dot(lastChange, lastChange)
                for index in q.indices { q[index] *= gamma }
            } else {
                let norm = dot(q, q).squareRoot()
                if norm > 0 { for index in q.indices { q[index] /= norm } }
            }
            for index in steps.indices {
                let beta = rhos[index] * dot(changes[index], q)
                axpy(alphas[index] - beta, steps[index], &q)
            }
            var direction = q.map { -$0 }
            var slope = dot(gradient, direction)
            if slope >= 0 {  // not a descent direction: start the memory afresh
                steps.removeAll(); changes.removeAll(); rhos.removeAll()
                direction = gradient.map { -$0 }
                slope = dot(gradient, direction)
            }
            var step = 1.0
            var newValue = value
            var accepted = false
            for _ in 0..<60 {
                for index in x.indices { candidate[index] = x[index] + step * direction[index] }
                newValue = objective(candidate, &candidateGradient)
                if newValue <= value + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            guard accepted else { break }
            let s = zip(candidate, x).map { $0 - $1 }
            let change = zip(candidateGradient, gradient).map { $0 - $1 }
            let curvature = dot(s, change)
            let previous = value
            x = candidate
            gradient = candidateGradient
            value = newValue
            if curvature > 1e-12 {
                steps.append(s); changes.append(change); rhos.append(1 / curvature)
                if steps.count > memory { steps.removeFirst(); changes.removeFirst(); rhos.removeFirst() }
            }
            if abs(previous - value) <= 64 * Double.ulpOfOne * max(1, abs(value), abs(previous)) { break }
        }
        return x
    }

    private static func dot(_ a: [Double], _ b: [Double]) -> Double {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                var sum = 0.0
                for index in 0..<a.count { sum += a[index] * b[index] }
                return sum
            }
        }
    }

    private static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
        x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { y in
                for index in 0..<x.count { y[index] += alpha * x[index] }
            }
        }
    }
}
